"""The GPU worker process: ``python -m vidstudio.jobs.worker --fd N`` (started by
:class:`vidstudio.jobs.supervisor.WorkerSupervisor`, never by hand).

It owns the GPU. It keeps one :class:`vidstudio.graph.Engine` over :func:`vidstudio.nodes.default_registry`
(plugins included) for its whole life, so the engine's output cache and the backend's pipeline cache (the
loaded model) survive from one job to the next. It runs one job at a time, in its main thread; a reader thread
takes ``cancel`` requests while a job runs, and exits the process at once when the server goes away.

Messages (see :mod:`vidstudio.jobs.wire`), server to worker:

- ``{"op": "run", "job", "project", "output_node", "job_dir", "embed"}``: run the project (JSON text) for the
  output node with the job folder as its project folder; ``embed`` is the document embedded in the MP4;
- ``{"op": "cancel", "job", "reason"}``; ``{"op": "shutdown"}``.

Worker to server (every message has ``t``, the worker's clock, Unix seconds):

- ``{"ev": "ready", "pid", "nodes"}``: started; ``nodes`` is ``vidstudio nodes --json``'s document;
- ``{"ev": "device", "device", "memory_bytes"}``: the render device in words and its memory (None: unknown) (sent once, soon after ``ready``, by a thread
  that imports torch; ``device`` is ``"unknown: ..."`` with the reason when torch cannot be used);
- ``{"ev": "started", "job", "nodes": [[id, type], ...]}``: the nodes the output needs, in order;
- ``{"ev": "progress", "job", "node", "fraction", "message"}``: the engine's progress (``running``, ``done``,
  ``cached``, or a node's own message), at most every 50 ms per node except for those three;
- ``{"ev": "step", "job", "node", "step", "total", "sps", "width", "height"}`` + a JPEG payload (or none): a
  denoising step ended (``ctx.services["on_step"]``);
- ``{"ev": "finished", "job", "status", "error", "notes", "output", "pipeline"}``: ``status`` is succeeded,
  failed or cancelled; ``output`` describes ``output.mp4`` in the job folder.

Files the worker reads and writes are inside the job folder only: before a run every file parameter of the
needed nodes must be a relative path inside it (the server puts uploaded images, videos and sounds there), except
a model file, which the server has resolved to a file in its models folders; the output goes to ``output.mp4``
and ``preview.jpg`` there.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import io
import os
import queue
import socket
import sys
import threading
import time
import traceback
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from vidstudio.errors import Cancelled, GraphError, VidStudioError
from vidstudio.jobs.wire import Wire, WireClosed
from vidstudio.progress import CancelToken

#: Progress messages that are not node state changes are sent at most this often per node (seconds).
PROGRESS_INTERVAL = 0.05
#: Longest side of a step preview sent to the server (pixels); larger previews are scaled down.
PREVIEW_MAX_SIDE = 512


def encode_jpeg(image: np.ndarray, *, max_side: int = PREVIEW_MAX_SIDE, quality: int = 85) -> tuple[bytes, int, int]:
    """Encodes an ``(h, w, 3)`` float32 image in [0, 1] (or uint8) as JPEG.

    Returns:
        ``(jpeg bytes, width, height)`` of the encoded image (scaled down to ``max_side`` when larger).
    """
    from PIL import Image

    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    im = Image.fromarray(np.ascontiguousarray(a[..., :3]), "RGB")
    if max(im.size) > max_side:
        im.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue(), im.size[0], im.size[1]


def inside_folder(value: str, root: Path) -> bool:
    """True when the file parameter ``value`` is a relative path that stays inside ``root`` (no ``~``, no drive,
    no ``..``, no absolute path on any platform)."""
    if not value or value.startswith("~") or "\x00" in value:
        return False
    for pure in (PurePosixPath(value), PureWindowsPath(value)):
        if pure.is_absolute() or pure.drive or pure.root or ".." in pure.parts:
            return False
    try:
        (root / value).resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


#: What allocators say when memory runs out: torch's CPU allocator ("DefaultCPUAllocator: not enough memory:
#: you tried to allocate N bytes"), CUDA ("CUDA out of memory"), MPS ("MPS backend out of memory").
_OOM_WORDS = ("out of memory", "not enough memory", "you tried to allocate", "cannot allocate memory")


def _is_oom(e: BaseException) -> bool:
    """True when ``e``, or an exception it was raised from, says memory ran out (MemoryError, torch's
    OutOfMemoryError, or a RuntimeError with an allocator's words)."""
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError":
            return True
        if isinstance(e, RuntimeError) and any(w in str(e).lower() for w in _OOM_WORDS):
            return True
        e = e.__cause__ or e.__context__
    return False


def _loaded_backend_loader():
    """``vidstudio.backend.loader`` once some thread has started importing it, else None (torch is never
    imported just to ask). Importing it again waits for a thread that is still initialising it (the device
    announcement), so the module returned is complete."""
    if "vidstudio.backend.loader" not in sys.modules:
        return None
    from vidstudio.backend import loader

    return loader


def _pipeline_facts() -> dict[str, Any]:
    """The backend's pipeline cache, if the backend was loaded: how many loads, and which model is loaded (its
    repo id, or its folder's absolute path)."""
    loader = _loaded_backend_loader()
    if loader is None:
        return {"loads": 0, "model": None}
    cache = loader.default_cache()
    cur = cache.current
    model = None
    if cur is not None:
        loc = cur.location
        model = loc.repo_id or str(loc.folder)
    return {"loads": int(cache.loads), "model": model}


def _release_memory() -> None:
    loader = _loaded_backend_loader()
    if loader is not None:
        try:
            loader.default_cache().clear()
        except Exception:
            pass
    gc.collect()


class Worker:
    """The worker's state: the registry, the engine, the job queue and the running job's cancel token.

    Args:
        wire: the connection to the server.
    """

    def __init__(self, wire: Wire):
        from vidstudio.graph.engine import Engine
        from vidstudio.nodes import default_registry

        self.wire = wire
        self.registry = default_registry()
        self.engine = Engine(self.registry)
        self.jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._current: tuple[str, CancelToken] | None = None
        self._cancelled: dict[str, str] = {}

    # ------------------------------------------------------------------------------------------ messages
    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        """Sends a message to the server (thread-safe); exits the process at once when the server is gone."""
        header.setdefault("t", time.time())
        try:
            self.wire.send(header, payload)
        except WireClosed:
            os._exit(0)  # the server is gone

    def _reader(self) -> None:
        while True:
            try:
                msg, _ = self.wire.recv()
            except WireClosed:
                os._exit(0)  # the server is gone: stop at once, even in the middle of a job
            op = msg.get("op")
            if op == "run":
                self.jobs.put(msg)
            elif op == "cancel":
                self.cancel(str(msg.get("job")), str(msg.get("reason") or "cancelled"))
            elif op == "shutdown":
                with self._lock:
                    if self._current is not None:
                        self._current[1].cancel("the server is shutting down")
                self.jobs.put(None)
                return

    def cancel(self, job_id: str, reason: str = "cancelled") -> None:
        """Cancels ``job_id``: the running job stops at its next cancel check (between denoising steps), a job
        not started yet stops before it starts (thread-safe)."""
        with self._lock:
            if self._current is not None and self._current[0] == job_id:
                self._current[1].cancel(reason)
            else:
                self._cancelled[job_id] = reason

    def describe(self) -> dict[str, Any]:
        """``vidstudio nodes --json``'s document for this worker's registry (imports every plugin's types)."""
        from vidstudio.nodes.catalogue import catalogue

        try:
            return catalogue(self.registry)
        except Exception as e:  # a broken plugin must not stop the worker
            print(f"vidstudio worker: describing the node types failed: {e}", file=sys.stderr)
            return {"nodes": [], "capabilities": {}}

    def _announce_device(self) -> None:
        """Sends the render device in words (imports torch, which the first generation would do anyway)."""
        memory = None
        try:
            from vidstudio.backend.loader import describe_device, device_memory_bytes

            device = describe_device()
            memory = device_memory_bytes()
        except Exception as e:  # a broken torch install must not take the worker down
            device = f"unknown: {e.__class__.__name__}: {e}"
        self.send({"ev": "device", "device": device, "memory_bytes": memory})

    def serve(self) -> int:
        """Announces itself, then runs jobs until ``shutdown``; returns the exit status."""
        self.send({"ev": "ready", "pid": os.getpid(), "nodes": self.describe()})
        threading.Thread(target=self._reader, name="vidstudio-worker-reader", daemon=True).start()
        threading.Thread(target=self._announce_device, name="vidstudio-worker-device", daemon=True).start()
        while True:
            msg = self.jobs.get()
            if msg is None:
                return 0
            self.run(msg)

    # ------------------------------------------------------------------------------------------ one job
    def run(self, msg: dict[str, Any]) -> None:
        """Runs one job and reports how it ended (never raises)."""
        job_id = str(msg["job"])
        token = CancelToken()
        with self._lock:
            if job_id in self._cancelled:
                token.cancel(self._cancelled.pop(job_id))
            self._current = (job_id, token)
        status, error, output, notes = "failed", None, None, []
        try:
            output, notes = self._execute(msg, job_id, Path(msg["job_dir"]), token)
            status = "succeeded"
        except Cancelled as e:
            status, error = "cancelled", str(e) or "cancelled"
        except VidStudioError as e:
            error = str(e)
            if _is_oom(e):  # a node that wrapped the allocator's error: still out of memory, still released
                error = f"out of memory: {e}"
                _release_memory()
        except Exception as e:
            if _is_oom(e):
                error = f"out of memory: {e}"
                _release_memory()
            elif getattr(e, "exit_code", None) == 1 and type(e).__name__ == "NodeExecutionError":
                error = str(e)
            else:
                error = f"internal error in the worker: {e.__class__.__name__}: {e}"
            traceback.print_exc(file=sys.stderr)
        finally:
            with self._lock:
                self._current = None
        self.send(
            {
                "ev": "finished",
                "job": job_id,
                "status": status,
                "error": error,
                "notes": notes,
                "output": output,
                "pipeline": _pipeline_facts(),
            }
        )

    def _check_paths(self, project: Any, order: list[str], overrides: dict[str, dict], root: Path) -> None:
        for nid in order:
            inst = project.node(nid)
            cls = self.registry.find(inst.type)
            if cls is None:
                continue  # validation names the type
            for p in cls.params:
                if p.kind != "file" or p.file_role == "model":
                    # a model file (Upscale's) is never uploaded: the server's request check has resolved it to
                    # a file inside one of its models folders (vidstudio.server.build.model_file)
                    continue
                v = overrides.get(nid, {}).get(p.name, inst.params.get(p.name, p.default))
                if isinstance(v, str) and v and not inside_folder(v, root):
                    raise VidStudioError(
                        f"node '{nid}' param '{p.name}': {v!r} is outside the job's folder; the server reads only "
                        "uploaded files (POST /v1/assets, mapped in the request's 'assets') and writes only into "
                        "the job's folder"
                    )

    def _execute(
        self, msg: dict[str, Any], job_id: str, job_dir: Path, token: CancelToken
    ) -> tuple[dict[str, Any], list[str]]:
        from vidstudio.media.clip import as_clip
        from vidstudio.media.video import probe_video, write_video
        from vidstudio.project import loads_project

        token.raise_if_cancelled()
        project = loads_project(msg["project"], source=f"job {job_id}")
        project.bind(None, job_dir)
        out = str(msg["output_node"])
        if not project.has_node(out):
            raise VidStudioError(f"output node {out!r} is not in the project")
        try:
            cls = self.registry.get(project.node(out).type)
        except KeyError as e:
            raise VidStudioError(f"node '{out}': {e.args[0]}") from None
        overrides: dict[str, dict[str, Any]] = {}
        video_port = None
        if cls.type_id == "ExportVideo":
            overrides[out] = {"path": "output.mp4", "format": "mp4"}
        else:
            ports = [o.name for o in cls.outputs if str(o.type) == "VIDEO"]
            if not ports:
                raise VidStudioError(
                    f"output node '{out}' ({cls.type_id}) gives no VIDEO; choose an Export Video "
                    "node or a node with a VIDEO output"
                )
            video_port = ports[0]
        plan = self.engine.plan(project, project.settings, [out], overrides=overrides)  # validated once, here
        if not plan.ok:
            raise GraphError(plan.errors)
        order = plan.order
        self._check_paths(project, order, overrides, job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        types = {nid: project.node(nid).type for nid in order}
        self.send({"ev": "started", "job": job_id, "nodes": [[nid, types[nid]] for nid in order]})

        last_sent: dict[str, float] = {}
        stepping: set[str] = set()  # nodes that report steps through on_step (their step messages come with it)

        def progress(node_id: str, fraction: float | None, message: str) -> None:
            now = time.time()
            state = message in ("running", "done", "cached")
            if not state and (
                node_id in stepping or (now - last_sent.get(node_id, 0.0) < PROGRESS_INTERVAL and (fraction or 0) < 1)
            ):
                return
            last_sent[node_id] = now
            self.send(
                {
                    "ev": "progress",
                    "job": job_id,
                    "node": node_id,
                    "fraction": fraction,
                    "message": str(message),
                    "t": now,
                }
            )

        def on_step(node_id: str, step: int, total: int, sps: float, preview: Any) -> None:
            now = time.time()
            stepping.add(node_id)
            payload, w, h = b"", 0, 0
            if preview is not None:
                try:
                    payload, w, h = encode_jpeg(preview)
                except Exception as e:  # a bad preview must not stop the job
                    print(f"vidstudio worker: preview not encoded: {e}", file=sys.stderr)
            self.send(
                {
                    "ev": "step",
                    "job": job_id,
                    "node": node_id,
                    "step": int(step),
                    "total": int(total),
                    "sps": float(sps),
                    "width": w,
                    "height": h,
                    "t": now,
                },
                payload,
            )

        result = self.engine.run(
            plan,
            project_dir=job_dir,
            progress=progress,
            cancel=token,
            project_json=msg.get("embed"),
            services={"on_step": on_step},
        )
        target = job_dir / "output.mp4"
        if video_port is None:
            written = Path(result.values[out]["file"])
            links = project.links_into(out, "video")
            clip = as_clip(result.values[links[0].source_node][links[0].source_port]) if links else None
        else:
            clip = as_clip(result.values[out][video_port])
            written, _ = write_video(
                clip,
                target,
                project.settings.fps,
                project_json=msg.get("embed"),
                metadata=dict(clip.metadata) or None,
                cancel=token,
            )
        if written.resolve() != target.resolve():
            raise VidStudioError(f"output node '{out}' wrote {written.name}, not output.mp4")
        info = probe_video(target)
        if clip is not None and clip.frame_count:
            try:
                jpeg, _, _ = encode_jpeg(clip.frame(clip.frame_count // 2), max_side=1024)
                tmp = job_dir / ".preview.jpg.tmp"
                tmp.write_bytes(jpeg)
                os.replace(tmp, job_dir / "preview.jpg")
            except Exception as e:
                print(f"vidstudio worker: no thumbnail for job {job_id}: {e}", file=sys.stderr)
        seed = clip.metadata.get("vidstudio_seed") if clip is not None else None
        fps = info.fps
        output = {
            "width": info.width,
            "height": info.height,
            "frame_count": info.frame_count,
            "fps": str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}",
            "duration_seconds": float(info.frame_count / fps) if fps else 0.0,
            "bytes": target.stat().st_size,
            "seed": int(seed) if seed not in (None, "") and str(seed).lstrip("-").isdigit() else None,
        }
        notes = [f"{nid}: {n}" for nid, rep in result.report.items() for n in rep.notes]
        notes += [f"warning: {w}" for w in result.warnings]
        return output, notes


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process (``--fd``: the inherited socket to the server)."""
    parser = argparse.ArgumentParser(prog="python -m vidstudio.jobs.worker")
    parser.add_argument("--fd", type=int, required=True, help="file descriptor of the socket to the server")
    args = parser.parse_args(argv)
    faulthandler.enable()
    sock = socket.socket(fileno=args.fd)
    wire = Wire(sock)
    try:
        worker = Worker(wire)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return 3
    return worker.serve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
