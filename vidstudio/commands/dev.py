"""``vidstudio dev ...``: developer tools.

``vidstudio dev tiny-model FAMILY OUT_DIR [--variant V]`` writes a randomly initialised, tiny but complete
diffusers pipeline of FAMILY (``animatediff``, ``ltx``, ``wan``, ``svd``, ``cogvideox``) to OUT_DIR. It loads
back through the same loader as a real model (``vidstudio render PROJECT --model OUT_DIR``) and makes noise,
quickly, on a CPU: for tests and demos. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio dev`` and its tools to the command line."""
    from vidstudio.families import FAMILIES, VARIANTS

    p = sub.add_parser(
        "dev",
        help="developer tools (tiny models for tests and demos)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dsub = p.add_subparsers(dest="dev_command", metavar="TOOL")
    t = dsub.add_parser(
        "tiny-model",
        help="write a tiny random pipeline of a model family",
        description="Writes a randomly initialised, tiny but complete diffusers pipeline "
        "(tokenizer built in code, no download) that loads like a real model.",
    )
    tiny = [f for f in FAMILIES if VARIANTS[f]]  # HunyuanVideo 1.5 and LTX-2 have no tiny model
    t.add_argument("family", choices=tiny, help="the model family")
    t.add_argument("out_dir", help="the folder to write (created)")
    variants = sorted({v for vs in VARIANTS.values() for v in vs})
    t.add_argument(
        "--variant",
        choices=variants,
        help="checkpoint kind: wan t2v|i2v|vace, cogvideox t2v|i2v (default: the family's first, "
        + ", ".join(f"{f} {VARIANTS[f][0]}" for f in tiny)
        + "); wan i2v is a first-and-last-frame (FLF2V) checkpoint, which needs keyframes at frame 0 and at "
        "the last frame: for one start image (cut_and_drag) use cogvideox --variant i2v or svd",
    )
    t.set_defaults(func=run_tiny)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_tiny(args: argparse.Namespace) -> int:
    """``vidstudio dev tiny-model``: writes the tiny pipeline; returns the exit code.

    Raises:
        vidstudio.errors.VidStudioError: for a variant the family does not have, or an output path that is a file.
    """
    from vidstudio.errors import VidStudioError
    from vidstudio.families import VARIANTS

    if args.variant and args.variant not in VARIANTS[args.family]:
        raise VidStudioError(
            f"family {args.family} has no variant {args.variant!r}; expected one of {', '.join(VARIANTS[args.family])}"
        )
    out = Path(args.out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise VidStudioError(f"{out} exists and is not a folder")
    from vidstudio.backend.tiny import write_tiny_model

    write_tiny_model(args.family, out, args.variant)
    cls = json.loads((out / "model_index.json").read_text()).get("_class_name", "?")
    print(f"wrote a tiny random {args.family} pipeline ({cls}) to {out}", file=sys.stdout)
    return 0
