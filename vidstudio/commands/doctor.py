"""``vidstudio doctor [--json]``: check that this installation can do its work, and say how to fix what cannot.

Each check is ``ok``, ``warn`` (works, with a limitation) or ``fail`` (something VidStudio needs is broken).
Checks that import heavy or fragile libraries (torch, Qt) run in a subprocess, so a broken installation is
reported instead of crashing the doctor. Exit 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Check:
    """One result: ``name``, ``status`` (``ok`` / ``warn`` / ``fail``), ``detail`` (what was found) and
    ``fix`` (what to do; empty when ok)."""

    name: str
    status: str
    detail: str
    fix: str = ""


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio doctor`` to the command line."""
    p = sub.add_parser(
        "doctor", help="check this installation (ffmpeg, torch and devices, Qt, plugins, folders)", description=__doc__
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _python() -> Check:
    v = sys.version_info
    ok = v >= (3, 11)
    return Check(
        "python",
        "ok" if ok else "fail",
        f"{sys.version.split()[0]} at {sys.executable}",
        "" if ok else "VidStudio needs Python 3.11 or newer",
    )


def _ffmpeg() -> Check:
    from vidstudio.errors import MediaError
    from vidstudio.media.video import ffmpeg_exe

    try:
        exe = ffmpeg_exe()
    except MediaError as e:
        return Check(
            "ffmpeg", "fail", str(e), "reinstall imageio-ffmpeg (pip install --force-reinstall imageio-ffmpeg)"
        )
    try:
        version = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
        ).stdout.splitlines()[0]
        version = version.split(" Copyright")[0]
        encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError, IndexError) as e:
        return Check("ffmpeg", "fail", f"{exe} does not run: {e}", "reinstall imageio-ffmpeg")
    if "libx264" not in encoders:
        return Check(
            "ffmpeg",
            "fail",
            f"{version}: no libx264 encoder",
            "use the ffmpeg that imageio-ffmpeg ships, or one built with libx264",
        )
    return Check("ffmpeg", "ok", f"{version} ({exe}), H.264 encoder libx264")


def _imaging() -> Check:
    try:
        import cv2
        import numpy
        import PIL
        import pymunk
        import scipy
        from PIL import features
    except ImportError as e:
        return Check(
            "imaging and physics", "fail", f"cannot import {e.name}", 'reinstall VidStudio: pip install -e ".[dev]"'
        )
    webp = features.check("webp")
    detail = (
        f"numpy {numpy.__version__}, scipy {scipy.__version__}, Pillow {PIL.__version__} (WebP "
        f"{'yes' if webp else 'no'}), pymunk {pymunk.version}, OpenCV {cv2.__version__}"
    )
    if not webp:
        return Check(
            "imaging and physics",
            "warn",
            detail,
            "this Pillow cannot read WebP images; install a Pillow wheel from PyPI",
        )
    return Check("imaging and physics", "ok", detail)


_TORCH_PROBE = r"""
import json, sys
out = {}
try:
    import torch
    out["torch"] = torch.__version__
    out["cuda"] = torch.cuda.is_available()
    out["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if out["cuda"] else []
    out["mps"] = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    from vidstudio.backend.loader import choose_device, choose_dtype
    dev = choose_device("auto")
    out["device"] = dev
    out["dtype"] = str(choose_dtype("auto", dev)).replace("torch.", "")
    import diffusers, transformers
    out["diffusers"] = diffusers.__version__
    out["transformers"] = transformers.__version__
except Exception as e:
    out["error"] = f"{e.__class__.__name__}: {e}"
print(json.dumps(out))
"""


def _torch() -> Check:
    try:
        proc = subprocess.run([sys.executable, "-c", _TORCH_PROBE], capture_output=True, text=True, timeout=300)
        info = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return Check(
            "generation backend",
            "fail",
            f"probing torch crashed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}",
            "reinstall torch for your machine (see the README)",
        )
    if "error" in info:
        return Check(
            "generation backend", "fail", info["error"], "reinstall torch, diffusers and transformers (see the README)"
        )
    where = ", ".join(info["gpus"]) if info["gpus"] else ("Apple GPU (MPS)" if info["mps"] else "CPU only")
    detail = (
        f"torch {info['torch']}, diffusers {info['diffusers']}, transformers {info['transformers']}; "
        f"renders on {info['device']} in {info['dtype']} ({where})"
    )
    if info["device"] == "cpu":
        return Check(
            "generation backend",
            "warn",
            detail,
            "no GPU: real models will be very slow here; install a CUDA build of torch, or render on a GPU "
            "machine with `vidstudio serve` there and `--server URL` here",
        )
    return Check("generation backend", "ok", detail)


def _models() -> Check:
    from vidstudio.backend.locate import hf_cache_dir, hf_offline

    cache = hf_cache_dir()
    from vidstudio.backend.hub import cached_models

    repos = [m["id"] for m in cached_models(cache)] if cache.is_dir() else []
    detail = f"Hugging Face cache {cache}: {len(repos)} model(s){': ' + ', '.join(repos[:8]) if repos else ''}"
    detail += "; HF_HUB_OFFLINE is set" if hf_offline() else ""
    if not repos:
        return Check(
            "models",
            "warn",
            detail,
            "download a model once (`vidstudio models download Lightricks/LTX-Video`) or point "
            "Load Model / --model at a local pipeline folder; `vidstudio dev tiny-model` makes a test one",
        )
    return Check("models", "ok", detail)


def _qt() -> Check:
    from importlib import metadata

    try:
        version = metadata.version("PySide6-Essentials")
    except metadata.PackageNotFoundError:
        try:
            version = metadata.version("PySide6")
        except metadata.PackageNotFoundError:
            return Check(
                "desktop application", "fail", "PySide6 is not installed", 'pip install "PySide6-Essentials!=6.12.0"'
            )
    if version == "6.12.0" and sys.version_info < (3, 12):
        return Check(
            "desktop application",
            "fail",
            f"PySide6 {version} on Python {sys.version.split()[0]}: this build "
            "loses references to None and aborts the GUI (VidStudio's requirements exclude it)",
            'pip install "PySide6-Essentials!=6.12.0"',
        )
    from vidstudio.qtlibs import HEADLESS_PLATFORMS, install_hint, missing_platform_libraries, qt_platform

    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("win32", "darwin")
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    detail = f"PySide6 {version}; " + (
        f"QT_QPA_PLATFORM={platform}" if platform else ("a display is available" if display else "no display")
    )
    chosen = qt_platform()
    missing = missing_platform_libraries(chosen)
    if missing:
        names = ", ".join(m.soname for m in missing)
        # Without a display the desktop application is not what this machine is for: a warning then.
        return Check(
            "desktop application",
            "fail" if display else "warn",
            f"{detail}; Qt's {chosen!r} platform plugin cannot load: the loader does not find {names}",
            install_hint(missing).replace("\n", "; "),
        )
    if chosen in HEADLESS_PLATFORMS and sys.platform.startswith("linux"):
        on_desktop = missing_platform_libraries("xcb")
        if on_desktop:
            names = ", ".join(m.soname for m in on_desktop)
            return Check(
                "desktop application",
                "warn",
                f"{detail}; works headless, but a window on an X11 desktop (Qt's xcb plugin) needs {names}",
                install_hint(on_desktop).replace("\n", "; "),
            )
    if not display and platform not in HEADLESS_PLATFORMS:
        return Check(
            "desktop application",
            "warn",
            detail,
            "`vidstudio gui` needs a display; for screenshots without one set QT_QPA_PLATFORM=offscreen",
        )
    return Check("desktop application", "ok", detail)


def _plugins() -> Check:
    from vidstudio.plugins import PluginManager

    try:
        manager = PluginManager()
    except Exception as e:  # discovery itself failed
        return Check("plugins", "fail", f"plugin discovery failed: {e}", "see `vidstudio plugins list`")
    infos = manager.plugins
    bad = [p for p in infos if p.status in ("failed", "incompatible")]
    detail = f"{len(infos)} plugin(s)" + (": " + ", ".join(f"{p.name} ({p.status})" for p in infos) if infos else "")
    if bad:
        return Check(
            "plugins",
            "warn",
            detail,
            "; ".join(f"{p.name}: {p.error}" for p in bad)
            + " (their nodes are unavailable; `vidstudio plugins info NAME`)",
        )
    return Check("plugins", "ok", detail)


def _folders() -> Check:
    from vidstudio.project.recovery import recovery_dir

    problems, notes = [], []
    folder = recovery_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
        notes.append(f"recovery files in {folder}")
    except OSError as e:
        problems.append(f"cannot write recovery files to {folder} ({e.strerror or e}): autosave will not work")
    free = shutil.disk_usage(Path.cwd()).free / 2**30
    notes.append(f"{free:.1f} GiB free here")
    if free < 2:
        problems.append(f"only {free:.1f} GiB free in {Path.cwd()}: renders and model downloads need more")
    if problems:
        return Check("folders", "warn", "; ".join(notes), "; ".join(problems))
    return Check("folders", "ok", "; ".join(notes))


CHECKS: list[Callable[[], Check]] = [_python, _ffmpeg, _imaging, _torch, _models, _qt, _plugins, _folders]


def run(args: argparse.Namespace) -> int:
    """Runs every check, prints them, and returns 1 when one failed."""
    results = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as e:  # a check that breaks is itself a finding
            results.append(Check(check.__name__.strip("_"), "fail", f"the check crashed: {e.__class__.__name__}: {e}"))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))
    else:
        mark = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
        for r in results:
            print(f"[{mark[r.status]}] {r.name}: {r.detail}")
            if r.fix:
                print(f"       -> {r.fix}")
    return 1 if any(r.status == "fail" for r in results) else 0
