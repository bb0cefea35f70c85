"""The generation backend: the only package that imports torch and diffusers.

Pipeline adapters per model family, the capability table, conditioning, previews from latents, cancellation
and model loading live here. Everything else reaches it through nodes that import it lazily, so that the
GUI process and the server process never load torch.
"""
