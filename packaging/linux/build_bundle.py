"""Builds the Linux desktop bundle: ``python packaging/linux/build_bundle.py [--out dist]`` (``make package``).

1. PyInstaller makes a one-folder bundle of VidStudio's desktop application and CPU side (the graph engine,
   motion layer, animatic, export, the client and the server without its GPU worker's torch): torch,
   diffusers, transformers and accelerate are excluded, so the bundle is a few hundred MB instead of several
   GB. Generation runs in the managed backend (``vidstudio backend install``), which the bundle's local server
   starts from, or on a remote server.
2. The bundle becomes an AppDir (``VidStudio.AppDir``: ``AppRun``, the desktop entry, the icon, the bundle in
   ``usr/lib/vidstudio``, the examples and desktop files in ``usr/share/vidstudio``).
3. With ``appimagetool`` on PATH the AppDir becomes ``VidStudio-VERSION-x86_64.AppImage``; without it (it is
   not on PyPI or Debian, and this build must not download tools), ``VidStudio-VERSION-x86_64.tar.gz`` of the
   AppDir, which runs the same way (``VidStudio.AppDir/AppRun``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
APP_ID = "io.github.vidstudio.VidStudio"
EXCLUDED = [
    "torch",
    "torchvision",
    "torchaudio",
    "diffusers",
    "transformers",
    "accelerate",
    "triton",
    "tensorflow",
    "jax",
    "IPython",
    "matplotlib",
    "tkinter",
    "pytest",
    "hypothesis",
    "schemathesis",
    "ray",
]

APPRUN = """#!/bin/sh
# VidStudio AppRun: starts the bundled application with the AppDir's data files.
HERE="$(dirname "$(readlink -f "$0")")"
export VIDSTUDIO_SHARE_DIR="$HERE/usr/share/vidstudio"
exec "$HERE/usr/lib/vidstudio/vidstudio" "$@"
"""


def version() -> str:
    """The version, read from the package without importing it."""
    for line in (ROOT / "vidstudio" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise SystemExit("no __version__ in vidstudio/__init__.py")


def pyinstaller(work: Path) -> Path:
    """Runs PyInstaller; returns the one-folder bundle."""
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--onedir",
        "--name",
        "vidstudio",
        "--distpath",
        str(work / "dist"),
        "--workpath",
        str(work / "build"),
        "--specpath",
        str(work),
        "--collect-submodules",
        "vidstudio",
        "--collect-data",
        "qtawesome",
        "--hidden-import",
        "PySide6.QtSvg",
        "--paths",
        str(ROOT),
    ]
    for name in EXCLUDED:
        cmd += ["--exclude-module", name]
    cmd.append(str(HERE / "vidstudio_main.py"))
    subprocess.run(cmd, check=True, cwd=ROOT)
    return work / "dist" / "vidstudio"


def appdir(bundle: Path, out: Path) -> Path:
    """Assembles ``VidStudio.AppDir`` from the bundle and the desktop files."""
    app = out / "VidStudio.AppDir"
    shutil.rmtree(app, ignore_errors=True)
    shutil.copytree(bundle, app / "usr" / "lib" / "vidstudio", symlinks=True)
    share = app / "usr" / "share" / "vidstudio"
    shutil.copytree(ROOT / "resources" / "examples", share / "examples")
    shutil.copytree(HERE, share / "linux", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    desktop = (HERE / f"{APP_ID}.desktop").read_text()
    desktop = desktop.replace("Exec=vidstudio gui %f", "Exec=AppRun gui %f").replace("TryExec=vidstudio\n", "")
    (app / f"{APP_ID}.desktop").write_text(desktop)
    shutil.copyfile(HERE / "icons" / "hicolor" / "256x256" / "apps" / "vidstudio.png", app / "vidstudio.png")
    shutil.copyfile(HERE / "icons" / "vidstudio.svg", app / ".DirIcon")
    metainfo = app / "usr" / "share" / "metainfo"
    metainfo.mkdir(parents=True)
    shutil.copyfile(HERE / f"{APP_ID}.metainfo.xml", metainfo / f"{APP_ID}.appdata.xml")
    run = app / "AppRun"
    run.write_text(APPRUN)
    run.chmod(run.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return app


def package(app: Path, out: Path) -> Path:
    """The AppImage when ``appimagetool`` is available, else a tar.gz of the AppDir."""
    arch = platform.machine()
    tool = shutil.which("appimagetool")
    if tool:
        target = out / f"VidStudio-{version()}-{arch}.AppImage"
        subprocess.run([tool, str(app), str(target)], check=True, env={**os.environ, "ARCH": arch})
        return target
    target = out / f"VidStudio-{version()}-{arch}.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        tar.add(app, arcname=app.name)
    return target


def main() -> int:
    """Builds the bundle; prints where it is."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "dist"), help="output folder (default dist/)")
    parser.add_argument("--no-archive", action="store_true", help="stop at the AppDir")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    bundle = pyinstaller(out / "pyinstaller")
    app = appdir(bundle, out)
    print(f"AppDir: {app}")
    if not args.no_archive:
        print(f"package: {package(app, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
