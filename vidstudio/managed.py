"""The managed generation backend: VidStudio's own Python environment for the generation server, with the torch
build that matches the machine's GPU and the pinned diffusers stack (Krita AI Diffusion's managed server).

An artist's desktop install (or the desktop bundle) carries no torch; ``vidstudio backend install --cuda 12.8``
(or Preferences > Local server > Install) creates a virtual environment under the user data folder
(``$VIDSTUDIO_BACKEND_DIR`` overrides it), installs torch from PyTorch's index for that build, then VidStudio
with the versions of diffusers, transformers and friends this release was tested with, runs
``vidstudio doctor`` inside it, and records the result in ``installed.json``. From then on the local server
(:class:`vidstudio.client.LocalServer`) starts from that environment. ``upgrade`` reinstalls the stack in
place, ``remove`` deletes the folder.

Torch-free and Qt-free: everything happens in subprocesses (``venv``, ``pip``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from vidstudio import __version__
from vidstudio.errors import VidStudioError

#: The torch release the backend is installed with (the one CI tests).
TORCH_VERSION = "2.13.0"

#: The diffusers stack this release was tested with, installed as constraints with VidStudio.
PINNED: dict[str, str] = {
    "diffusers": "0.42.1",
    "transformers": "5.24.0",
    "accelerate": "1.15.0",
    "safetensors": "0.8.0",
    "tokenizers": "0.23.3",
    "sentencepiece": "0.2.3",
    "huggingface_hub": "2.4.0",
    "ftfy": "6.3.1",
}

#: PyTorch's package index per build: ``cpu``, ``cu126``, ``cu128``, ``rocm6.4`` ... (download.pytorch.org).
PYTORCH_INDEX = "https://download.pytorch.org/whl/{build}"

#: ``torch_index`` value that means "pip's own configuration" (a local wheel, a mirror, PyPI).
PIP_DEFAULT = "pip"


@dataclass(frozen=True)
class BackendInfo:
    """What ``installed.json`` records about a verified managed backend.

    Attributes:
        root: the backend folder; python: its interpreter; build: ``cpu``, ``cu128``, ``rocm6.4`` ...;
        torch: the installed torch version; device: where the doctor says it renders (``cuda``, ``cpu`` ...);
        vidstudio: the VidStudio version installed there; installed_at: seconds since the epoch.
    """

    root: str
    python: str
    build: str
    torch: str
    device: str
    vidstudio: str
    installed_at: float


def backend_root() -> Path:
    """The managed backend's folder: ``$VIDSTUDIO_BACKEND_DIR``, else ``backend`` in the user data folder."""
    given = os.environ.get("VIDSTUDIO_BACKEND_DIR")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("vidstudio", "VidStudio")) / "backend"


def _python_in(root: Path) -> Path:
    return root / "venv" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def installed(root: Path | None = None) -> BackendInfo | None:
    """The verified managed backend in ``root`` (default :func:`backend_root`), or None when there is none
    (never installed, removed, or an install that did not finish its verification)."""
    root = root or backend_root()
    try:
        data = json.loads((root / "installed.json").read_text(encoding="utf-8"))
        info = BackendInfo(**data)
    except (OSError, ValueError, TypeError):
        return None
    return info if Path(info.python).is_file() else None


def server_python() -> str:
    """The interpreter the local generation server runs on: the managed backend's when one is installed,
    else this process's own."""
    info = installed()
    return info.python if info is not None else sys.executable


def torch_build(cuda: str | None = None, rocm: str | None = None) -> str:
    """The PyTorch build name for ``--cuda 12.8`` (``cu128``), ``--rocm 6.4`` (``rocm6.4``) or neither (``cpu``).

    Raises:
        VidStudioError: for a version that is not ``MAJOR.MINOR``.
    """
    if cuda and rocm:
        raise VidStudioError("choose one of --cuda and --rocm")
    for given, prefix in ((cuda, "cu"), (rocm, "rocm")):
        if given:
            parts = given.split(".")
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise VidStudioError(f"{given!r}: expected a version such as 12.8")
            return f"cu{parts[0]}{parts[1]}" if prefix == "cu" else f"rocm{given}"
    return "cpu"


def _base_python() -> str:
    """The interpreter that creates the environment: this one, or in the desktop bundle (which has none to
    lend) a Python 3.11+ on PATH.

    Raises:
        VidStudioError: in the bundle, when no Python 3.11 or newer is on PATH.
    """
    if not getattr(sys, "frozen", False):
        return sys.executable
    for name in ("python3.13", "python3.12", "python3.11", "python3"):
        exe = shutil.which(name)
        if exe:
            ok = (
                subprocess.run(
                    [exe, "-c", "import sys, venv; sys.exit(sys.version_info < (3, 11))"],
                    capture_output=True,
                    env=_clean_env(),
                ).returncode
                == 0
            )
            if ok:
                return exe
    raise VidStudioError(
        "the managed backend needs Python 3.11 or newer with venv on PATH "
        "(Debian/Ubuntu: sudo apt install python3-venv; Fedora: sudo dnf install python3)"
    )


def default_source() -> str:
    """What to install VidStudio from: this source checkout when running from one, else the release of the
    running version from the package index."""
    from vidstudio.datafiles import source_root

    root = source_root()
    return str(root) if root is not None else f"vidstudio=={__version__}"


Progress = Callable[[float, str], None]


def _clean_env() -> dict[str, str]:
    """This process's environment less what would make the new environment's Python import other code."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _copy_source(source: str, into: Path) -> str:
    """A copy of the source folder ``source`` to build from (pip builds in the tree it is given, and the
    user's checkout should not gain ``build/`` and ``*.egg-info``); other sources are returned as they are."""
    path = Path(source)
    if not (path / "pyproject.toml").is_file():
        return source
    dst = into / "source"
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(
        path,
        dst,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "venv", "build", "dist", "out", "*.egg-info", "__pycache__", ".pytest_cache"
        ),
    )
    return str(dst)


def _run(cmd: Sequence[str], what: str, progress: Progress, fraction: float, log: Path) -> None:
    """Runs ``cmd``, streaming its output to ``log`` and its last line to ``progress``."""
    progress(fraction, what)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, env=_clean_env()
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if line.strip():
                progress(fraction, f"{what}: {line.strip()[:160]}")
        code = proc.wait()
    if code != 0:
        raise VidStudioError(f"{what} failed (exit {code}); the whole output is in {log}")


def install(
    *,
    build: str = "cpu",
    torch_index: str | None = None,
    source: str | None = None,
    root: Path | None = None,
    upgrade: bool = False,
    progress: Progress = lambda f, m: None,
) -> BackendInfo:
    """Creates (or, with ``upgrade``, refreshes) the managed backend and verifies it.

    Args:
        build: the torch build: ``cpu``, ``cu128``, ``rocm6.4`` ... (see :func:`torch_build`).
        torch_index: where torch comes from: a package index URL, :data:`PIP_DEFAULT` for pip's own
            configuration, or None for PyTorch's index of ``build``.
        source: what to install VidStudio from (a folder, a wheel, or a requirement); default
            :func:`default_source`.
        root: the backend folder (default :func:`backend_root`).
        upgrade: keep the environment and upgrade VidStudio and the pinned stack in it.
        progress: called with (fraction done in [0, 1], a message) as the install goes.

    Returns:
        The verified :class:`BackendInfo`, also written to ``root/installed.json``.

    Raises:
        VidStudioError: a step failed (its output is in ``root/install.log``), or the verification found no
            working torch.
    """
    root = root or backend_root()
    root.mkdir(parents=True, exist_ok=True)
    (root / "installed.json").unlink(missing_ok=True)  # unverified until the end
    log = root / "install.log"
    log.write_text(f"vidstudio backend install, {time.ctime()}\n", encoding="utf-8")
    py = _python_in(root)
    if not py.is_file() or not upgrade:
        progress(0.02, f"creating the environment in {root / 'venv'}")
        shutil.rmtree(root / "venv", ignore_errors=True)
        base = _base_python()
        if base == sys.executable:
            venv.EnvBuilder(with_pip=True, symlinks=sys.platform != "win32").create(root / "venv")
        else:  # the desktop bundle has no interpreter of its own to make a venv with
            _run([base, "-m", "venv", str(root / "venv")], "creating the environment", progress, 0.02, log)
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
    index = torch_index if torch_index is not None else PYTORCH_INDEX.format(build=build)
    torch_cmd = pip + ([] if index == PIP_DEFAULT else ["--index-url", index]) + [f"torch=={TORCH_VERSION}"]
    _run(torch_cmd, f"installing torch {TORCH_VERSION} ({build})", progress, 0.1, log)
    constraints = root / "constraints.txt"
    constraints.write_text(
        "".join(f"{k}=={v}\n" for k, v in PINNED.items()) + f"torch=={TORCH_VERSION}\n", encoding="utf-8"
    )
    stack = (
        pip
        + (["--upgrade"] if upgrade else [])
        + ["-c", str(constraints), _copy_source(source or default_source(), root)]
    )
    _run(stack, "installing VidStudio and the diffusers stack", progress, 0.55, log)
    shutil.rmtree(root / "source", ignore_errors=True)
    progress(0.9, "verifying: vidstudio doctor in the new environment")
    proc = subprocess.run(
        [str(py), "-m", "vidstudio", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        env=_clean_env(),
    )
    with open(log, "a", encoding="utf-8") as out:
        out.write(proc.stdout + proc.stderr)
    try:
        checks = {c["name"]: c for c in json.loads(proc.stdout)}
        backend = checks["generation backend"]
    except (ValueError, KeyError, TypeError):
        raise VidStudioError(
            f"the new environment's doctor did not answer (exit {proc.returncode}); see {log}"
        ) from None
    if backend["status"] == "fail":
        raise VidStudioError(f"the new environment cannot generate: {backend['detail']} ({backend['fix']})")
    probe = subprocess.run(
        [
            str(py),
            "-c",
            "import torch, vidstudio; from vidstudio.backend.loader import "
            "choose_device; print(torch.__version__, choose_device('auto'), vidstudio.__version__)",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env=_clean_env(),
    )
    try:
        torch_version, device, vs_version = probe.stdout.split()
    except ValueError:
        raise VidStudioError(f"the new environment's torch does not import: {probe.stderr.strip()[-300:]}") from None
    info = BackendInfo(str(root), str(py), build, torch_version, device, vs_version, time.time())
    (root / "installed.json").write_text(json.dumps(asdict(info), indent=1), encoding="utf-8")
    progress(1.0, f"ready: torch {torch_version} on {device}")
    return info


def remove(root: Path | None = None) -> bool:
    """Deletes the managed backend folder; returns False when there was none."""
    root = root or backend_root()
    if not root.exists():
        return False
    shutil.rmtree(root)
    return True
