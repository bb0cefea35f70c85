"""``vidstudio models``: the models on this computer and downloads from the Hugging Face Hub.

- ``models list [--models-dir DIR]``: cached Hub models, and the pipeline folders and single checkpoint files
  (``.safetensors``/``.gguf``) of the model folders, with their size on disk, family and variant;
- ``models download ID [--revision R] [--include PATTERN]``: download or resume, with progress in bytes, speed
  and ETA; the free disk space is checked first; Ctrl-C cancels, and a later run resumes;
- ``models remove ID``: delete a model from the Hugging Face cache.

Exit 2 with a message for a model that does not exist, too little disk space, or no network.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio models`` (``download``, ``list``, ``remove``) to the subcommand parser ``sub``."""
    p = sub.add_parser(
        "models",
        help="list, download and remove models",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    msub = p.add_subparsers(dest="models_command", required=True)
    ls = msub.add_parser("list", help="cached Hub models and local checkpoint files")
    ls.add_argument(
        "--models-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a models folder: its pipeline folders and single checkpoint files (e.g. ComfyUI's models "
        "folder), as `vidstudio serve --models-dir` reads it; repeatable",
    )
    ls.set_defaults(func=run_list)
    dl = msub.add_parser("download", help="download (or resume) a model from the Hugging Face Hub")
    dl.add_argument("id", help="repo id, e.g. Lightricks/LTX-Video")
    dl.add_argument("--revision", default=None, help="branch, tag or commit (default: the main branch)")
    dl.add_argument(
        "--include",
        action="append",
        default=None,
        metavar="PATTERN",
        help="only files matching this glob pattern (repeatable), e.g. 'transformer/*'",
    )
    dl.set_defaults(func=run_download)
    rm = msub.add_parser("remove", help="delete a model from the Hugging Face cache")
    rm.add_argument("id")
    rm.set_defaults(func=run_remove)


def run_list(args: argparse.Namespace) -> int:
    """``vidstudio models list``: cached Hugging Face models and local checkpoint files with their size on disk,
    family and variant; returns the exit status.

    Raises:
        vidstudio.errors.VidStudioError: for a ``--models-dir`` that is not a folder (exit 2).
    """
    from pathlib import Path

    from vidstudio.backend.checkpoint_files import list_checkpoint_files
    from vidstudio.backend.hub import cached_models, hub_cache, human_bytes
    from vidstudio.errors import VidStudioError

    for d in args.models_dir:  # a mistyped folder would list nothing, silently
        if not Path(d).expanduser().is_dir():
            raise VidStudioError(f"--models-dir {d}: no such folder")
    rows = [(m["id"], m["size"], m["family"] or "-", m["variant"] or "-", "hub cache") for m in cached_models()]
    rows += pipeline_folders(args.models_dir)
    rows += [
        (
            f["path"],
            f["size"],
            f["family"] or "-",
            f["variant"] or f["component"] or "-",
            f"{f['kind']} ({f['format']}{', ' + str(f['dtype']) if f.get('dtype') else ''})"
            + (f": unreadable, {f['error']}" if f.get("error") else ""),
        )
        for f in list_checkpoint_files(args.models_dir)
    ]
    print(f"Hugging Face cache: {hub_cache()}")
    if not rows:
        print("no models (download one with `vidstudio models download ID`)")
        return 0
    print(f"{'model':<60} {'size':>10} {'family':<12} {'variant':<12} where")
    for name, size, fam, var, where in rows:
        print(f"{name:<60} {human_bytes(size):>10} {fam:<12} {var:<12} {where}")
    return 0


def pipeline_folders(folders: list[str]) -> list[tuple[str, int, str, str, str]]:
    """The diffusers pipeline folders (a ``model_index.json`` inside) directly in the models folders, as
    ``vidstudio serve --models-dir`` offers them: ``(path, bytes on disk, family, variant, "pipeline folder")``;
    family and variant "-" when the pipeline is not one VidStudio knows."""
    from pathlib import Path

    from vidstudio.backend.locate import locate
    from vidstudio.errors import ModelError

    rows = []
    for folder in folders:
        try:
            children = sorted(Path(folder).expanduser().iterdir())
        except OSError:
            continue
        for child in children:
            if child.name.startswith(".") or not (child / "model_index.json").is_file():
                continue
            try:
                loc = locate(str(child))
                family, variant = loc.family or "-", loc.variant or "-"
            except ModelError:
                family = variant = "-"
            size = sum(f.stat().st_size for f in child.rglob("*") if f.is_file())
            rows.append((str(child), size, family, variant, "pipeline folder"))
    return rows


def run_download(args: argparse.Namespace) -> int:
    """``vidstudio models download ID``: a Hugging Face snapshot with progress (bytes, speed, ETA), free space
    checked first; Ctrl-C cancels (exit 130) and a later run resumes. Returns the exit status (2: bad id, no
    space, or the hub refused)."""
    from vidstudio.backend.hub import download
    from vidstudio.errors import Cancelled, ModelError

    def show(p) -> None:
        sys.stderr.write(f"\r{args.id}: {p.line()}   ")
        sys.stderr.flush()

    try:
        folder = download(args.id, revision=args.revision, include=args.include, progress=show)
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{args.id}: cancelled; run the same command again to resume\n")
        return 130
    except Cancelled:
        sys.stderr.write(f"\n{args.id}: cancelled\n")
        return 130
    except ModelError as e:
        sys.stderr.write(f"\n{e}\n")
        return 2
    sys.stderr.write("\n")
    print(folder)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """``vidstudio models remove ID``: deletes a cached model and says how much space came back; returns the exit
    status (2 when the model is not in the cache)."""
    from vidstudio.backend.hub import human_bytes, remove
    from vidstudio.errors import ModelError

    try:
        freed = remove(args.id)
    except ModelError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"removed {args.id} ({human_bytes(freed)} freed)")
    return 0
