"""VidStudio: direct AI video. Draw, key and simulate motion, preview it on the CPU, render it with the
diffusion model you choose.

The package is layered (see ``pyproject.toml``'s import-linter contracts): ``project`` > ``graph`` >
``motion`` / ``media`` form the headless core; ``nodes`` wires node types to them; ``backend`` alone imports
torch and diffusers; ``ui`` alone imports Qt.
"""

__version__ = "0.1.0"
