"""Installing and uninstalling plugins: what ``vidstudio plugins install | uninstall`` does.

An install target is

* a plugin folder (``vidstudio-plugin.toml`` and the module, no ``pyproject.toml``): its ``requirements``
  are installed with pip, then the folder is copied into the user plugins folder;
* a package folder (``pyproject.toml`` or ``setup.py``, the manifest inside its package), a wheel (``.whl``)
  or a source archive (``.tar.gz``, ``.zip``): installed with pip with its dependencies;
* a package name or requirement (``vidstudio-example-nodes``, ``"my-plugin>=2"``): downloaded with
  ``pip download --no-deps`` first, so that its manifest can be shown, then installed from that file.

pip runs as ``<this python> -m pip``, so everything goes into the application's environment; pip's own
configuration applies (``pip.conf``, ``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX`` for offline
installs...). Before anything is installed, :func:`inspect_target` reads the manifest so that the caller can
show it and ask (a plugin is code that runs on this machine).
"""

from __future__ import annotations

import configparser
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import uuid
import zipfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement

from vidstudio.api import API_VERSION
from vidstudio.plugins.manager import ENTRY_POINT_GROUP, PluginError, PluginInfo, PluginManager
from vidstudio.plugins.manifest import (
    MANIFEST_NAME,
    PERMISSIONS,
    Manifest,
    ManifestError,
    load_manifest,
    parse_manifest,
)

Log = Callable[[str], None]
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class InstallPlan:
    """What an install would do, decided before anything changes.

    Attributes:
        kind: ``"folder"`` (copied into the plugins folder), ``"package"`` (a package folder for pip),
            ``"wheel"`` or ``"sdist"`` (a file for pip).
        target: what the user asked for (path or requirement).
        path: the folder or file to install.
        manifest: the plugin's manifest; manifest_source: where it was read (for messages).
        requirement: the requirement as given when the plugin was downloaded by name, else None.
    """

    kind: Literal["folder", "package", "wheel", "sdist"]
    target: str
    path: Path
    manifest: Manifest
    manifest_source: str
    requirement: str | None = None

    @property
    def uses_pip(self) -> bool:
        """True when pip installs the plugin itself (not only its requirements)."""
        return self.kind != "folder"


# ---------------------------------------------------------------------------------------------- pip
def run_pip(args: list[str], log: Log = _stderr) -> str:
    """Runs ``<sys.executable> -m pip ARGS``, passing its output to ``log`` line by line.

    Returns:
        pip's whole output.

    Raises:
        PluginError: when pip is not available or exits with an error (the message ends with pip's last lines).
    """
    if importlib.util.find_spec("pip") is None:
        raise PluginError(f"pip is not available in this Python environment ({sys.prefix}); cannot install")
    cmd = [sys.executable, "-m", "pip", *args]
    log("running: " + " ".join(cmd))
    tail: deque[str] = deque(maxlen=25)
    lines: list[str] = []
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        lines.append(line)
        tail.append(line)
        log("  " + line)
    code = proc.wait()
    if code != 0:
        raise PluginError(f"pip {args[0]} failed (exit {code}):\n" + "\n".join(tail))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- inspecting
def _pick_manifest(names: list[str]) -> str | None:
    hits = [n for n in names if n == MANIFEST_NAME or n.endswith("/" + MANIFEST_NAME)]
    return min(hits, key=lambda n: (n.count("/"), n)) if hits else None


def _inspect_wheel(path: Path) -> tuple[Manifest, str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            member = _pick_manifest(names)
            if member is None:
                raise PluginError(f"{path}: not a VidStudio plugin (no {MANIFEST_NAME} inside the wheel)")
            source = f"{path}!{member}"
            manifest = parse_manifest(z.read(member), source)
            ep_files = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
            groups = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            groups.optionxform = str  # type: ignore[assignment,method-assign]
            if ep_files:
                groups.read_string(z.read(ep_files[0]).decode("utf-8"))
    except (zipfile.BadZipFile, OSError) as e:
        raise PluginError(f"{path}: cannot read the wheel ({e})") from None
    except configparser.Error as e:
        raise PluginError(f"{path}: unreadable entry_points.txt ({e})") from None
    if not groups.has_section(ENTRY_POINT_GROUP):
        raise PluginError(
            f"{path}: the wheel declares no entry point in group '{ENTRY_POINT_GROUP}', so VidStudio "
            "would not find the plugin after installing it"
        )
    if manifest.name not in groups[ENTRY_POINT_GROUP]:
        raise PluginError(
            f"{path}: its '{ENTRY_POINT_GROUP}' entry point must be named after the plugin, "
            f"'{manifest.name}' (found: {', '.join(groups[ENTRY_POINT_GROUP]) or 'none'})"
        )
    return manifest, source


def _inspect_sdist(path: Path) -> tuple[Manifest, str]:
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                member = _pick_manifest(z.namelist())
                data = z.read(member) if member else None
        else:
            with tarfile.open(path) as t:
                member = _pick_manifest(t.getnames())
                f = t.extractfile(member) if member else None
                data = f.read() if f else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as e:
        raise PluginError(f"{path}: cannot read the archive ({e})") from None
    if member is None or data is None:
        raise PluginError(f"{path}: not a VidStudio plugin (no {MANIFEST_NAME} inside the archive)")
    source = f"{path}!{member}"
    return parse_manifest(data, source), source


def _inspect_package_folder(folder: Path) -> tuple[Manifest, str]:
    found = [
        folder / MANIFEST_NAME,
        *sorted(folder.glob(f"*/{MANIFEST_NAME}")),
        *sorted(folder.glob(f"src/*/{MANIFEST_NAME}")),
    ]
    found = [f for f in found if f.is_file()]
    if not found:
        raise PluginError(f"{folder}: not a VidStudio plugin (no {MANIFEST_NAME} in it or in its package folder)")
    manifest = load_manifest(found[0])
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as e:
            raise PluginError(f"{pyproject}: cannot read it ({e})") from None
        if project:
            eps = project.get("entry-points", {}).get(ENTRY_POINT_GROUP)
            if not eps:
                raise PluginError(
                    f"{pyproject}: declares no entry point in group '{ENTRY_POINT_GROUP}', so VidStudio "
                    f'would not find the plugin; add [project.entry-points."{ENTRY_POINT_GROUP}"] '
                    f'{manifest.name} = "<package>"'
                )
            if manifest.name not in eps:
                raise PluginError(
                    f"{pyproject}: its '{ENTRY_POINT_GROUP}' entry point must be named after the plugin, "
                    f"'{manifest.name}' (found: {', '.join(eps)})"
                )
    return manifest, str(found[0])


def inspect_target(target: str, workdir: Path, log: Log = _stderr) -> InstallPlan:
    """Decides how to install ``target`` and reads its manifest, changing nothing (a package name is
    downloaded into ``workdir``).

    Args:
        target: a folder, a wheel, a source archive, or a package name / requirement.
        workdir: a scratch folder that lives until the install is done.
        log: receives pip's output when a package is downloaded.

    Returns:
        the :class:`InstallPlan`.

    Raises:
        PluginError: for a target that is not a plugin, cannot be found or downloaded.
        ManifestError: for an invalid manifest (names the file and key).
    """
    p = Path(target).expanduser()
    if p.is_dir():
        is_package = (p / "pyproject.toml").is_file() or (p / "setup.py").is_file()
        if (p / MANIFEST_NAME).is_file() and not is_package:
            return InstallPlan("folder", target, p.resolve(), load_manifest(p / MANIFEST_NAME), str(p / MANIFEST_NAME))
        if not is_package:
            raise PluginError(f"{p}: not a VidStudio plugin (no {MANIFEST_NAME}, no pyproject.toml)")
        manifest, source = _inspect_package_folder(p)
        return InstallPlan("package", target, p.resolve(), manifest, source)
    if p.is_file():
        if p.suffix == ".whl":
            return InstallPlan("wheel", target, p.resolve(), *_inspect_wheel(p))
        if p.name.endswith(ARCHIVE_SUFFIXES):
            return InstallPlan("sdist", target, p.resolve(), *_inspect_sdist(p))
        raise PluginError(f"{p}: expected a plugin folder, a wheel (.whl) or a source archive (.tar.gz, .zip)")
    looks_like_path = os.sep in target or target.endswith((".whl", *ARCHIVE_SUFFIXES)) or target.startswith(".")
    try:
        Requirement(target)
    except InvalidRequirement:
        looks_like_path = True
    if looks_like_path:
        raise PluginError(f"{target}: no such file or folder")
    dl = workdir / "download"
    dl.mkdir(parents=True, exist_ok=True)
    run_pip(["download", "--no-deps", "--dest", str(dl), target], log)
    files = sorted(f for f in dl.iterdir() if f.is_file())
    if len(files) != 1:
        raise PluginError(f"pip download {target} gave {len(files)} files, expected one")
    plan = inspect_target(str(files[0]), workdir, log)
    plan.target, plan.requirement = target, target
    return plan


def describe_plan(plan: InstallPlan, manager: PluginManager) -> list[str]:
    """The lines shown before an install: the manifest's facts, the permissions with their reasons, what
    pip will do, and the warning that a plugin runs code on this machine."""
    m = plan.manifest
    ok, why = m.compatible(API_VERSION)
    lines = [
        f"Plugin {m.name} {m.version}: {m.display_title}",
        f"  {m.description}",
        f"  author:       {m.author}",
        f"  licence:      {m.license}",
        f"  homepage:     {m.homepage or '-'}",
        f"  node API:     {m.api_versions} (this VidStudio: {API_VERSION}{'' if ok else ', NOT compatible'})",
        "  nodes:        " + ", ".join(f"{m.type_id(n)} ({n.title or n.name})" for n in m.nodes),
        f"  manifest:     {plan.manifest_source}",
    ]
    if plan.uses_pip:
        lines.append(f"  installs:     {plan.path.name} with pip, with its dependencies, into {sys.prefix}")
    else:
        reqs = ", ".join(m.requirements) or "none"
        lines.append(f"  requirements: {reqs}" + (f" (pip installs them into {sys.prefix})" if m.requirements else ""))
        lines.append(f"  copied to:    {manager.plugins_dir / m.name}")
    if m.permissions:
        lines.append("  permissions it declares:")
        for key, reason in m.permissions.items():
            lines.append(f"    {key:<11} {reason}  [{PERMISSIONS[key]}]")
    else:
        lines.append("  permissions it declares: none (no network, no files outside the project, no other programs)")
    try:
        existing = manager.get(m.name)
        lines.append(
            f"  replaces:     {existing.name} {existing.version or '(unreadable manifest)'} ({existing.origin}, {existing.location})"
        )
    except PluginError:
        pass
    lines += [
        "WARNING: a plugin is Python code that runs on this machine with your user's rights. VidStudio cannot",
        "enforce the permissions above: they are the author's declaration. Install only plugins you trust.",
    ]
    if not ok:
        lines.append(f"It cannot be installed: {why}.")
    return lines


# ---------------------------------------------------------------------------------------------- installing
def install(plan: InstallPlan, manager: PluginManager, log: Log = _stderr) -> PluginInfo:
    """Installs a plugin as ``plan`` says and checks that VidStudio now finds it.

    Folder plugins: requirements through pip, then the folder is copied into the plugins folder under the
    plugin's name (replacing an older copy only once the new one is complete). Packages: ``pip install``.

    Returns:
        the installed plugin's :class:`~vidstudio.plugins.PluginInfo` (from a fresh discovery).

    Raises:
        PluginError: when the plugin is incompatible, clashes with a plugin of the same name installed the
            other way, pip fails, or VidStudio does not find the plugin afterwards.
    """
    m = plan.manifest
    ok, why = m.compatible(API_VERSION)
    if not ok:
        raise PluginError(why)
    wanted = "folder" if plan.kind == "folder" else "package"
    try:
        existing = manager.get(m.name)
    except PluginError:
        existing = None
    if existing is not None and existing.origin != wanted:
        how = (
            f"the package {existing.distribution}"
            if existing.origin == "package"
            else f"the folder {existing.location}"
        )
        raise PluginError(
            f"a plugin named '{m.name}' is already installed as {how}; "
            f"uninstall it first (vidstudio plugins uninstall {m.name})"
        )
    if plan.kind == "folder":
        if m.requirements:
            run_pip(["install", *m.requirements], log)
        _copy_folder(plan.path, manager.plugins_dir, m.name)
    elif plan.kind == "package":
        # pip builds a package folder in place (setuptools writes build/ and *.egg-info into it); build a copy,
        # so that the user's source folder is left as it was.
        with tempfile.TemporaryDirectory(prefix="vidstudio-plugin-build-") as work:
            copy = Path(work) / plan.path.name
            try:
                shutil.copytree(plan.path, copy, ignore=_ignore_build_outputs(plan.path))
            except OSError as e:
                raise PluginError(f"cannot copy {plan.path} to build it: {e}") from None
            run_pip(["install", str(copy)], log)
    else:
        run_pip(["install", str(plan.path)], log)
    importlib.invalidate_caches()
    manager.refresh()
    try:
        info = manager.get(m.name)
    except PluginError:
        raise PluginError(
            f"installed {plan.path.name}, but VidStudio does not find plugin '{m.name}' afterwards "
            f"(is {sys.prefix} the environment VidStudio runs in?)"
        ) from None
    if info.origin != wanted or info.status == "failed":
        raise PluginError(f"installed {plan.path.name}, but plugin '{m.name}' is {info.status}: {info.error}")
    return info


def _ignore_build_outputs(root: Path) -> Callable[[str, list[str]], set[str]]:
    """A :func:`shutil.copytree` filter that leaves out what building or developing a package leaves behind:
    ``build/``, ``dist/`` and virtual environments at the top, ``*.egg-info``, ``__pycache__`` and ``.git``."""
    top = str(root)

    def ignore(folder: str, names: list[str]) -> set[str]:
        out = {n for n in names if n.endswith(".egg-info") or n in ("__pycache__", ".git")}
        if folder == top:
            out |= {n for n in names if n in ("build", "dist", ".venv", "venv", ".tox", ".nox")}
        return out

    return ignore


def _copy_folder(src: Path, plugins_dir: Path, name: str) -> Path:
    dest = plugins_dir / name
    src = src.resolve()
    if dest.exists() and src == dest.resolve():
        raise PluginError(f"{src} is already the installed copy of plugin '{name}'")
    plugins_dir.mkdir(parents=True, exist_ok=True)
    tmp = plugins_dir / f".installing-{name}-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(src, tmp, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"))
        old = None
        if dest.exists():
            old = plugins_dir / f".replaced-{name}-{uuid.uuid4().hex[:8]}"
            os.replace(dest, old)
        os.replace(tmp, dest)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PluginError(f"cannot copy {src} to {dest}: {e}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return dest


def uninstall(name: str, manager: PluginManager, log: Log = _stderr) -> PluginInfo:
    """Removes plugin ``name``: ``pip uninstall`` of its distribution, or deletion of its folder in the
    plugins folder. Its enabled/disabled setting is kept.

    Returns:
        the plugin's :class:`PluginInfo` as it was before.

    Raises:
        PluginError: for an unknown name, a folder plugin outside the plugins folder (left alone), a package
            without a known distribution, or a pip failure.
    """
    info = manager.get(name)
    if info.origin == "folder":
        assert info.location is not None
        if info.location.resolve().parent != manager.plugins_dir.resolve():
            raise PluginError(
                f"plugin '{name}' at {info.location} is not in the plugins folder {manager.plugins_dir}; "
                "remove it yourself"
            )
        trash = manager.plugins_dir / f".removing-{name}-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(info.location, trash)
        except OSError as e:
            raise PluginError(f"cannot remove {info.location}: {e}") from None
        shutil.rmtree(trash, ignore_errors=True)
    else:
        if not info.distribution:
            raise PluginError(
                f"plugin '{name}' comes from an entry point whose package is unknown; uninstall it with pip"
            )
        run_pip(["uninstall", "--yes", info.distribution], log)
    importlib.invalidate_caches()
    manager.refresh()
    return info


def scratch_dir() -> tempfile.TemporaryDirectory:
    """A temporary folder for downloads during an install (a context manager)."""
    return tempfile.TemporaryDirectory(prefix="vidstudio-plugin-")


__all__ = [
    "InstallPlan",
    "inspect_target",
    "describe_plan",
    "install",
    "uninstall",
    "run_pip",
    "scratch_dir",
    "ManifestError",
]
