"""The ``vidstudio`` command line.

Each subcommand lives in its own module under :mod:`vidstudio.commands` with ``register(subparsers)``; heavy
imports happen inside the command, so ``vidstudio --help`` is instant.

Exit codes: 0 success; 2 bad input (missing file, invalid project, invalid graph, a node that rejects its
input); 1 an internal error (or a plugin node that raised: the message names the plugin); 130 cancelled
(Ctrl-C), with nothing half-written.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from vidstudio import __version__

#: Subcommand modules under ``vidstudio.commands``, in ``--help`` order.
COMMANDS: list[str] = ["render", "validate", "eval", "nodes"]
COMMANDS += ["edit"]
COMMANDS += ["plugins"]
COMMANDS += ["gui"]
COMMANDS += ["dev"]
COMMANDS += ["doctor", "serve", "backend", "desktop"]
COMMANDS += ["models"]


def build_parser() -> argparse.ArgumentParser:
    """Builds the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="vidstudio",
        description="VidStudio: direct AI video from a node graph of prompts, keyframes, drawn paths and physics.",
    )
    parser.add_argument("--version", action="version", version=f"vidstudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"vidstudio.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line and returns the exit code (see the module docstring)."""
    from vidstudio.errors import Cancelled, VidStudioError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("vidstudio: cancelled", file=sys.stderr)
        return 130
    except Cancelled as e:
        print(f"vidstudio: {e}", file=sys.stderr)
        return 130
    except VidStudioError as e:
        print(f"vidstudio: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # output piped into `head`
        return 0
    except Exception as e:
        code = getattr(e, "exit_code", 1)
        traceback.print_exc(file=sys.stderr)
        source = getattr(e, "source", None) if type(e).__name__ == "NodeExecutionError" else None
        if isinstance(source, str) and source != "builtin":  # a plugin's bug, not VidStudio's: say whose
            print(f"vidstudio: error in plugin '{source}' (report it to the plugin's author): {e}", file=sys.stderr)
        else:
            print(f"vidstudio: internal error: {e}", file=sys.stderr)
        return code if isinstance(code, int) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
