"""``vidstudio render PROJECT [-o OUT] [--frames START:END] [--explain]``: run a project's output nodes.

``--server URL [--token T]`` renders on a generation server instead (:mod:`vidstudio.client`): the project and
the images it reads are sent, progress is shown as it comes (through the client's event feed, which reconnects
and resyncs the job when the server restarts), the MP4 is downloaded to ``-o``, and Ctrl-C cancels the job on
the server (exit 130). Without ``--server`` nothing but this process is involved.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio render`` to the subcommand parser ``sub``."""
    p = sub.add_parser(
        "render",
        help="render a project's output (Export) nodes",
        description="Runs the project's output nodes (or --node) and writes their files. "
        "Relative paths in the project resolve against the project file's folder; -o against the current folder.",
    )
    p.add_argument("project", help="a .vidproj file, or an MP4 rendered by VidStudio")
    p.add_argument(
        "-o", "--output", help="write to this file (.mp4) or folder (PNG sequence); needs exactly one output node"
    )
    p.add_argument(
        "--frames",
        metavar="START:END",
        help="render frames START..END-1 only (like a Python slice; negative counts from the end: --frames=-24:)",
    )
    p.add_argument(
        "--node", action="append", metavar="ID", help="run this node (and what it needs) instead of every output node"
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="after the run, say for every node whether it came from the cache or why it ran",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the disk cache of node outputs (also: VIDSTUDIO_NO_CACHE=1)",
    )
    p.add_argument(
        "--model",
        metavar="FOLDER_OR_ID",
        help="use this model in every Load Model node for this run: a local diffusers pipeline folder "
        "or a Hugging Face repo id (the family is read from the folder's model_index.json), or a single "
        "transformer/UNet .safetensors/.gguf file, whose VAE, text encoder and scheduler come from the node's "
        "base_model (set it in the project)",
    )
    p.add_argument(
        "--family",
        help="the model family for --model (default: read from the model, else auto; not with --server, "
        "where the server reads it from its model)",
    )
    p.add_argument(
        "--server",
        metavar="URL",
        help="render on a VidStudio server (vidstudio serve) and download the MP4 (to -o, else the Export "
        "Video node's path); --model then names one of the server's models (its /v1/models id), which "
        "overrides the project's model and its family",
    )
    p.add_argument("--token", help="the server's token (default: $VIDSTUDIO_SERVER_TOKEN)")
    p.set_defaults(func=run)


def model_overrides(project, registry, model: str | None, family: str | None) -> dict[str, dict]:
    """Per-run overrides that point every Load Model node at ``model`` (and ``family``).

    The family is ``family`` when given, else the one of the local folder's pipeline class, else ``auto`` (a
    single transformer file: read from its header when it loads; the node's ``base_model`` stays).

    Raises:
        vidstudio.errors.VidStudioError: when the project has no Load Model node, or the family is unknown.
        vidstudio.errors.ModelError: for a local folder that is not a pipeline.
    """
    from vidstudio.errors import VidStudioError
    from vidstudio.families import FAMILIES

    if model is None and family is None:
        return {}
    nodes = [n.id for n in project.nodes if n.type == "LoadModel"]
    if not nodes:
        raise VidStudioError("--model/--family need a Load Model node in the project; it has none")
    if family is not None and family not in ("auto",) + FAMILIES:
        raise VidStudioError(f"--family {family!r}: expected one of auto, {', '.join(FAMILIES)}")
    values: dict = {}
    if model is not None:
        path = Path(model).expanduser()
        if path.exists():
            from vidstudio.backend.locate import locate

            values["model"] = str(path.absolute())
            single = path.is_file() and path.suffix.lower() in (".safetensors", ".gguf")
            if family is None and not single:  # a single file's family is read from its header at load
                family = locate(str(path.absolute()), "auto").family
        else:
            values["model"] = model
    values["family"] = family or "auto"
    return {nid: dict(values) for nid in nodes}


def parse_frames(spec: str | None, frame_count: int) -> tuple[int, int] | None:
    """Parses ``START:END`` (either side may be empty; negative counts from the end).

    Raises:
        vidstudio.errors.VidStudioError: for a malformed or empty range.
    """
    from vidstudio.errors import VidStudioError

    if not spec:
        return None
    try:
        a, b = spec.split(":")
        start = int(a) if a.strip() else 0
        stop = int(b) if b.strip() else frame_count
    except ValueError:
        raise VidStudioError(f"--frames {spec!r}: expected START:END, e.g. 0:24") from None
    start, stop, _ = slice(start, stop).indices(frame_count)
    if start >= stop:
        raise VidStudioError(f"--frames {spec!r}: empty range for a {frame_count}-frame project")
    return start, stop


def run_remote(args: argparse.Namespace) -> int:
    """``vidstudio render PROJECT --server URL``: submit, show progress, download; Ctrl-C cancels the remote job.

    Raises:
        vidstudio.errors.VidStudioError: options that need a local render, no single output node;
        vidstudio.client.ServerRefused: a request the server refuses (its message names the field; TokenRefused
            for the token); vidstudio.client.ServerUnreachable: no answer; vidstudio.client.JobFailed: the job
            failed (its error).
        vidstudio.errors.Cancelled: when the job was cancelled on the server by someone else.
    """
    import os

    from vidstudio.client import Client, JobCancelled, JobFailed
    from vidstudio.commands._common import ProgressBar, ctrl_c_cancels
    from vidstudio.errors import Cancelled, VidStudioError
    from vidstudio.progress import CancelToken
    from vidstudio.project import load_project
    from vidstudio.protocol.constants import TOKEN_ENV

    for flag, value in (
        ("--frames", args.frames),
        ("--explain", args.explain),
        ("--family", args.family),
        ("--no-cache", getattr(args, "no_cache", False)),
    ):
        if value:
            raise VidStudioError(
                f"{flag} is not available with --server (the server reads the family from its model; "
                "--model ID chooses the model, and with it the family)"
                if flag == "--family"
                else f"{flag} is not available with --server"
            )
    project = load_project(args.project)
    token = args.token or os.environ.get(TOKEN_ENV) or None
    with Client(args.server, token) as client:
        types = {d.get("type"): d for d in client.nodes().nodes}
        outs = list(args.node or [n.id for n in project.nodes if (types.get(n.type) or {}).get("is_output")])
        if len(outs) != 1:
            raise VidStudioError(
                f"--server renders one output node, the run has {len(outs)}"
                + (
                    f" ({', '.join(outs)}); choose one with --node"
                    if outs
                    else "; add an Export Video node or name a VIDEO node with --node"
                )
            )
        out_node = project.node(outs[0]) if project.has_node(outs[0]) else None
        if args.output:
            dest = Path(args.output).expanduser().absolute()
        elif out_node is not None and out_node.type == "ExportVideo" and out_node.params.get("path"):
            dest = Path(str(out_node.params["path"])).expanduser()
            if not dest.is_absolute():
                dest = (project.project_dir or Path.cwd()) / dest
        else:
            dest = Path.cwd() / f"{Path(args.project).stem}.mp4"
        if dest.suffix.lower() != ".mp4":
            raise VidStudioError(f"-o {dest}: a server render is an MP4; give a .mp4 file")
        bar = ProgressBar(args.quiet)

        def show(ev) -> None:
            if ev.type == "progress" and ev.progress.node:
                bar(ev.progress.node, ev.progress.fraction, ev.progress.message)

        token = CancelToken()
        with ctrl_c_cancels(token):  # the first Ctrl-C cancels the job on the server; a second one aborts here
            job = client.submit_project(project, outs[0], model=args.model)
            for a in job.adjustments:
                print(f"{args.project}: the server changed: {a}", file=sys.stderr)
            failure: JobFailed | None = None
            try:
                job = client.result(job.id, on_event=show, cancel=token)
            except JobFailed as e:  # JobCancelled too
                job, failure = e.job, e
            except KeyboardInterrupt:
                print(f"vidstudio: job {job.id} may still run on {args.server}", file=sys.stderr)
                raise
            finally:
                bar.close()
        if token.cancelled:
            state = "was cancelled" if job.status == "cancelled" else f"{job.status} before it could be cancelled"
            print(f"vidstudio: job {job.id} {state} on {args.server}", file=sys.stderr)
            return 130
        for note in job.notes:
            print(f"{note}", file=sys.stderr)
        if isinstance(failure, JobCancelled):
            why = job.error if job.error and job.error != "cancelled" else ""
            raise Cancelled(f"job {job.id} was cancelled on the server" + (f" ({why})" if why else "")) from None
        if failure is not None:
            raise failure
        client.download(job.id, dest)
    o = job.output
    assert o is not None
    print(f"wrote {dest} ({o.frame_count} frames, {o.width}x{o.height}, {o.fps} fps; job {job.id} on {args.server})")
    return 0


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio render`` here or on a server (``--server``); returns the exit status (130 when interrupted)."""
    if getattr(args, "server", None):
        return run_remote(args)
    from vidstudio.commands._common import ProgressBar, ctrl_c_cancels, disk_cache, load, load_history, save_history
    from vidstudio.errors import VidStudioError
    from vidstudio.graph.engine import Engine
    from vidstudio.progress import CancelToken
    from vidstudio.project import embeddable_json

    project, registry = load(args.project)
    engine = Engine(registry, disk_cache=disk_cache(args.no_cache))
    frame_range = parse_frames(args.frames, project.settings.frame_count)
    targets = args.node
    overrides: dict[str, dict] = {}
    if targets is None:
        targets = [n.id for n in project.nodes if (c := registry.find(n.type)) is not None and c.is_output]
        if not targets:
            raise VidStudioError(
                f"{args.project}: the project has no output node (add an Export Video node, or name one with --node)"
            )
    if args.output:
        outs = [
            t
            for t in targets
            if (c := registry.find(project.node(t).type)) is not None and c.param("path") is not None and c.is_output
        ]
        if len(outs) != 1:
            raise VidStudioError(
                f"-o needs exactly one output node to write, the run has {len(outs)}"
                + (f" ({', '.join(outs)}); choose one with --node" if outs else "")
            )
        out = Path(args.output).expanduser().absolute()
        fmt = "mp4" if out.suffix.lower() in (".mp4", ".m4v", ".mov") else "png"
        if out.suffix.lower() in (".mov", ".m4v"):
            out = out.with_suffix(".mp4")
        overrides[outs[0]] = {"path": str(out)}
        if registry.get(project.node(outs[0]).type).param("format") is not None:
            overrides[outs[0]]["format"] = fmt
    for nid, vals in model_overrides(project, registry, args.model, args.family).items():
        overrides.setdefault(nid, {}).update(vals)
    engine.history = load_history(project.path)
    plan = engine.plan(project, project.settings, targets, overrides=overrides)
    bar = ProgressBar(args.quiet)
    token = CancelToken()
    try:
        with ctrl_c_cancels(token):
            result = engine.run(
                plan,
                project_dir=project.project_dir,
                progress=bar,
                cancel=token,
                frame_range=frame_range,
                project_json=embeddable_json(project),
            )
    finally:
        bar.close()
    save_history(project.path, engine.history)
    for w in result.warnings:
        print(f"{args.project}: warning: {w}", file=sys.stderr)
    for node_id, rep in result.report.items():
        for note in rep.notes:
            print(f"{node_id}: {note}", file=sys.stderr)
    if args.explain:
        for line in result.explain():
            print(line)
    for t in targets:
        f = result.values.get(t, {}).get("file")
        if f:
            print(f"wrote {f} ({written_summary(f, project.settings, frame_range)})")
    return 0


def written_summary(path: str, settings, frame_range: tuple[int, int] | None) -> str:
    """``"N frames, WxH, F fps"`` of a file an output node wrote: an MP4 as probed back (an Interpolate's clip
    is written at its own rate and length, an odd size is padded), else the run's frames at the project's size
    and rate.

    Args:
        path: the file or folder written; settings: the project's settings; frame_range: the run's
            ``(start, stop)`` in project frames, or None for all.
    """
    from vidstudio.errors import MediaError
    from vidstudio.media.video import probe_video

    if Path(path).suffix.lower() == ".mp4":
        try:
            i = probe_video(path)
            return f"{i.frame_count} frames, {i.width}x{i.height}, {i.fps} fps"
        except MediaError:
            pass
    n = (frame_range[1] - frame_range[0]) if frame_range else settings.frame_count
    return f"{n} frames, {settings.width}x{settings.height}, {settings.fps} fps"
