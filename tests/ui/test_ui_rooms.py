"""The GUI's rooms: the application state (vidstudio.ui.state) runs on QtCore alone and never reaches widgets.

import-linter cannot forbid a submodule of an external package (``PySide6.QtWidgets``), so these tests check
it: every import statement of every state module, and what importing all of them pulls in.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import vidstudio.ui.state

STATE_DIR = Path(vidstudio.ui.state.__file__).parent
FORBIDDEN = ("PySide6.QtWidgets", "qtawesome")


def _imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_state_modules_import_no_widgets():
    bad = []
    modules = sorted(STATE_DIR.glob("*.py"))
    assert len(modules) >= 10  # session, transport, view, scheduler, evaluation, generation, tasks, ...
    for path in modules:
        for line, name in _imported_names(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if _forbidden(name):
                bad.append(f"{path.name}:{line} imports {name}")
    assert not bad, "vidstudio.ui.state must stay on QtCore (and QtGui's non-widget classes):\n" + "\n".join(bad)


def test_importing_all_state_loads_no_widgets():
    names = sorted(f"vidstudio.ui.state.{p.stem}" for p in STATE_DIR.glob("*.py") if p.stem != "__init__")
    code = (
        f"import sys\nfor n in {names!r}:\n    __import__(n)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
