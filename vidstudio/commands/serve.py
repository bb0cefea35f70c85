"""``vidstudio serve [--host 127.0.0.1] [--port 8765] [--token TOKEN] [--data-dir DIR] [--ray ADDRESS]``: the
generation server.

An HTTP + WebSocket job API (see ``docs/server.md`` and ``/openapi.json``) with one GPU worker process, or with
``--ray`` a pool of Ray actors, one GPU each (``docs/scale.md``). It listens on loopback unless given another
``--host``, which it refuses without a token. The token may come from the ``VIDSTUDIO_SERVER_TOKEN`` environment
variable instead of the command line (where ``ps`` shows it).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio serve`` to the subcommand parser ``sub``."""
    p = sub.add_parser(
        "serve",
        help="run the generation server (HTTP + WebSocket job API, one GPU worker)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; a non-loopback address needs --token)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port, printed at start)")
    p.add_argument(
        "--token",
        default=None,
        help="require 'Authorization: Bearer TOKEN' on every request (default: $VIDSTUDIO_SERVER_TOKEN)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="job database, outputs, uploads and the 'models' folder (default: the user data folder)",
    )
    p.add_argument(
        "--default-model",
        default=None,
        metavar="ID_OR_FOLDER",
        help="model used when a request names none: a model id (see /v1/models), a pipeline folder or a "
        "Hugging Face repo id (default: the first model found)",
    )
    p.add_argument(
        "--models-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="another models folder: each subfolder with model_index.json is a pipeline named after it, and "
        ".safetensors/.gguf files in it or in its ComfyUI subfolders (diffusion_models/, unet/, loras/, vae/, "
        "text_encoders/, ...) are model files named by their path in it; DATA_DIR/models is always read",
    )
    p.add_argument("--no-hf-cache", action="store_true", help="do not offer the models in the Hugging Face cache")
    p.add_argument("--max-upload-mb", type=float, default=32.0, help="largest upload in MB (default 32)")
    p.add_argument(
        "--cancel-grace",
        type=float,
        default=30.0,
        help="seconds a cancelled job may take to stop before the worker is restarted (default 30)",
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        metavar="N",
        help="refuse generations over N pixels a frame (default 1920x1088 = 2088960)",
    )
    p.add_argument(
        "--max-frames", type=int, default=None, metavar="N", help="refuse generations over N frames (default 1024)"
    )
    p.add_argument(
        "--max-steps",
        type=int,
        default=None,
        metavar="N",
        help="refuse generations over N denoising steps (default 200)",
    )
    p.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn's log level (default warning)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="run the jobs on a pool of Ray actors instead of the local worker: the cluster's address "
        "(ray://HEAD:10001, or HEAD:6379 on a node of the cluster), or 'auto' to start a local Ray "
        "instance (needs pip install 'vidstudio[ray]'; see docs/scale.md)",
    )
    p.add_argument(
        "--ray-actors",
        type=int,
        default=None,
        metavar="N",
        help="with --ray: how many actors, i.e. jobs at the same time (default: as many as the cluster's GPUs allow)",
    )
    p.add_argument(
        "--ray-gpus",
        type=float,
        default=1.0,
        metavar="G",
        help="with --ray: GPUs each actor holds (default 1; 0: CPU actors)",
    )
    p.add_argument(
        "--ray-cpus", type=float, default=1.0, metavar="C", help="with --ray: CPUs each actor holds (default 1)"
    )
    p.add_argument(
        "--ray-retries",
        type=int,
        default=0,
        metavar="N",
        help="with --ray: run a job whose actor died (killed, out of memory, node lost) again up to N "
        "times before it fails (default 0: it fails at once, saying why)",
    )
    p.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        metavar="PID",
        help="stop gracefully when process PID ends (the GUI starts its local server with its own pid, "
        "so that the server never outlives it, even when the GUI is killed)",
    )
    p.set_defaults(func=run)


def limits_from_args(args: argparse.Namespace):
    """The :class:`vidstudio.budget.Limits` of ``--max-pixels``, ``--max-frames`` and ``--max-steps`` (defaults for
    the ones not given).

    Raises:
        VidStudioError: for a limit below 1."""
    from vidstudio.budget import Limits
    from vidstudio.errors import VidStudioError

    values = {}
    for name in ("max_pixels", "max_frames", "max_steps"):
        v = getattr(args, name, None)
        if v is None:
            continue
        if v < 1:
            raise VidStudioError(f"--{name.replace('_', '-')} {v}: expected 1 or more")
        values[name] = int(v)
    return Limits(**values)


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio serve`` until it is stopped; returns the exit status.

    Raises:
        VidStudioError: a port outside 0..65535, a non-positive upload limit or parent pid, a ``--models-dir``
            that is not a folder, or what
            :func:`vidstudio.server.run.serve` refuses."""
    from vidstudio.errors import VidStudioError
    from vidstudio.server.app import ServerConfig
    from vidstudio.server.run import TOKEN_ENV, default_data_dir, serve

    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    if not 0 <= args.port <= 65535:
        raise VidStudioError(f"--port {args.port}: expected 0..65535")
    if args.max_upload_mb <= 0:
        raise VidStudioError(f"--max-upload-mb {args.max_upload_mb:g}: expected more than 0")
    for d in args.models_dir:  # a mistyped folder would serve no models, silently
        if not Path(d).expanduser().is_dir():
            raise VidStudioError(f"--models-dir {d}: no such folder")
    ray = None
    if args.ray is not None:
        from vidstudio.jobs.ray_pool import RayOptions, check_reachable, import_ray

        if args.ray_actors is not None and args.ray_actors < 1:
            raise VidStudioError(f"--ray-actors {args.ray_actors}: expected 1 or more")
        if args.ray_gpus < 0 or args.ray_cpus < 0 or args.ray_retries < 0:
            raise VidStudioError("--ray-gpus, --ray-cpus and --ray-retries: expected 0 or more")
        import_ray()  # clear errors before the server starts: Ray not installed, nobody at the address
        check_reachable(args.ray)
        ray = RayOptions(
            address=args.ray,
            actors=args.ray_actors,
            num_gpus=args.ray_gpus,
            num_cpus=args.ray_cpus,
            retries=args.ray_retries,
        )
    config = ServerConfig(
        data_dir=Path(args.data_dir).expanduser() if args.data_dir else default_data_dir(),
        host=args.host,
        port=args.port,
        token=token,
        default_model=args.default_model,
        models_dirs=[Path(d).expanduser() for d in args.models_dir],
        scan_hf_cache=not args.no_hf_cache,
        max_upload_bytes=int(args.max_upload_mb * (1 << 20)),
        cancel_grace=max(0.1, args.cancel_grace),
        ray=ray,
    )
    config.limits = limits_from_args(args)
    if args.parent_pid is not None and args.parent_pid <= 0:
        raise VidStudioError(f"--parent-pid {args.parent_pid}: expected a process id")
    return serve(config, log_level=args.log_level, access_log=args.access_log, parent_pid=args.parent_pid)
