"""Fixtures of the GUI tests: windows and sessions that are always shut down, and checks that no worker
thread or visible window outlives its test (napari's ``_testsupport`` idea)."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from uihelpers import KEN_BURNS, ScriptedPrompts, make_registry, wait_for


def _worker_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("vidstudio-") and t.is_alive()}


def _top_level_count() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    return len(app.topLevelWidgets()) if app is not None else 0


@pytest.fixture(autouse=True)
def _no_leaks(request):
    """Fails a GUI test that leaves worker threads running, windows open or top-level widgets alive."""
    before = _worker_threads()
    widgets_before = _top_level_count()
    yield
    if "qapp" not in request.fixturenames and "qtbot" not in request.fixturenames:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    for _ in range(3):  # let deleteLater() happen
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        QCoreApplication.processEvents()
    deadline = threading.Event()
    for _ in range(200):
        if not (_worker_threads() - before):
            break
        deadline.wait(0.01)
    leaked = _worker_threads() - before
    assert not leaked, f"worker threads left running: {sorted(leaked)}"
    if app is not None:
        visible = [w for w in app.topLevelWidgets() if w.isVisible()]
        assert not visible, f"windows left open: {[w.objectName() or type(w).__name__ for w in visible]}"
        left = _top_level_count() - widgets_before
        assert left <= 0, (
            f"{left} top-level widget(s) outlived the test: {[type(w).__name__ for w in app.topLevelWidgets()]}"
        )


@pytest.fixture
def registry():
    """The default registry plus the test node types (Gradient, Boxes, Everything)."""
    return make_registry()


@pytest.fixture
def session_factory(qapp, registry):
    """Makes sessions (no window) and shuts them down after the test."""
    from vidstudio.ui.state.session import Session

    made = []

    def make(project=None, prefetch=False, **kw):
        s = Session(registry, project=project, prefetch=prefetch, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.shutdown()
        s.deleteLater()


@pytest.fixture
def window_factory(qtbot, registry):
    """Makes shown main windows over a test registry; every window is closed after the test.

    ``make(project_path=None, prompts=None, prefetch=False, autosave_ms=120000, persist=True)``
    """
    from vidstudio.ui.state.session import Session
    from vidstudio.ui.widgets.main_window import MainWindow

    made = []

    def make(project_path=None, prompts=None, prefetch=False, autosave_ms=120_000, persist=True):
        session = Session(registry, prefetch=prefetch)
        win = MainWindow(session, prompts=prompts or ScriptedPrompts(), autosave_ms=autosave_ms, persist=persist)
        made.append(win)
        win.resize(1400, 900)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow, timeout=5000)
        if project_path is not None:
            with qtbot.waitSignal(win.opened, timeout=10000):
                win.open_path(str(project_path), ask=False)
            assert win.session.wait_idle(10)
        return win

    yield make
    for w in made:
        w._close_ok = True
        w.close()
        w.deleteLater()


@pytest.fixture
def ken_burns_copy(tmp_path):
    """A copy of the example project (with its assets) in a temporary folder."""
    import shutil

    dst = tmp_path / "proj"
    shutil.copytree(KEN_BURNS.parent, dst, ignore=shutil.ignore_patterns("out"))
    return dst / KEN_BURNS.name


__all__ = ["wait_for"]
