"""Starting the desktop application: ``vidstudio gui [PROJECT]``, and ``--screenshot`` for tests and docs.

``--screenshot OUT.png`` opens the project, waits until it has settled (project loaded, graph evaluated,
the frame at ``--frame`` painted, the Timeline's thumbnails made), saves a picture of the whole window and
exits 0; 2 when the project cannot be opened, 1 when it did not settle in time (the picture is still saved).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from vidstudio import __version__
from vidstudio.datafiles import APP_ID, app_icon


def _check_display(screenshot: bool) -> None:
    """Chooses the offscreen platform for ``--screenshot`` when there is no display, and refuses to start
    the interactive application without one (instead of Qt aborting the process)."""
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    from vidstudio.errors import VidStudioError

    raise VidStudioError(
        "no display to show the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
        "run it in a desktop session, or use --screenshot (QT_QPA_PLATFORM=offscreen)"
    )


def _quiet_offscreen_warnings() -> None:
    """Drops the offscreen platform's "This plugin does not support ..." notices (raise, grab, size hints),
    which say nothing about VidStudio; every other Qt message still reaches stderr."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = None

    def handler(mode, context, message: str) -> None:
        if message.startswith("This plugin does not support"):
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once, with the dark theme and the application's names)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
        app.setApplicationName("VidStudio")
        app.setOrganizationName("VidStudio")
        app.setApplicationVersion(__version__)
        app.setDesktopFileName(APP_ID)  # the desktop entry `vidstudio install-desktop` installs
        icon = app_icon()
        if icon is not None:
            app.setWindowIcon(QIcon(str(icon)))
        from vidstudio.ui.widgets import theme

        theme.apply(app)
    assert isinstance(app, QApplication)
    return app


def run_gui(
    project: str | None = None,
    *,
    screenshot: str | None = None,
    frame: int | None = None,
    select: list[str] | None = None,
    size: tuple[int, int] = (1600, 960),
    timeout: float = 90.0,
) -> int:
    """Runs the application (see the module docstring) and returns the exit code."""
    t0 = time.perf_counter()
    if QApplication.instance() is None:
        _check_display(screenshot is not None)
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            _quiet_offscreen_warnings()
    app = application()
    from vidstudio.ui.widgets.main_window import MainWindow, QuietPrompts

    quiet = screenshot is not None
    win = MainWindow(prompts=QuietPrompts(None) if quiet else None, persist=not quiet)  # type: ignore[arg-type]
    if quiet:
        win.prompts.parent = win
        win.resize(max(size[0], 1280), max(size[1], 720))
        win.default_layout()
    win.show()
    state = {"opened": project is None, "failed": None, "selected": False, "code": 0}
    win.opened.connect(lambda _p: state.update(opened=True))
    win.open_failed.connect(lambda msg: state.update(failed=msg))
    if project is not None:
        win.open_path(project, ask=False)
    elif not quiet:
        win.check_untitled_recovery()
    if not quiet:
        win.offer_crashed_plugins()  # a plugin that crashed the last run opens disabled: offer it back
    if not quiet:
        app.aboutToQuit.connect(win.shutdown)  # however the application ends: no local server is left running
        win.show_message(f"ready in {time.perf_counter() - t0:.2f} s")
        code = app.exec()
        return int(code)

    out = Path(screenshot).expanduser()  # type: ignore[arg-type]
    session = win.session
    painted: set[int] = set()
    win.viewer.frame_painted.connect(painted.add)
    deadline = time.monotonic() + timeout
    stable = {"since": None}

    def settled() -> bool:
        if not state["opened"]:
            return False
        if not state["selected"]:
            state["selected"] = True
            if select:
                session.view.set_selection(select)
            if frame is not None:
                session.transport.set_playhead(frame)
            return False
        if session.evaluation.evaluating or session.evaluation.evaluator.busy or session.previews.pending:
            return False  # (previews: the Timeline's thumbnails and waveforms still on their way)
        target = session.transport.playhead
        r = session.evaluation.last_result
        if session.view.view_target is not None and r is not None and r.clip is not None and not r.error:
            if target not in painted and session.frames.error(target) is None:
                return False
        return True

    def poll() -> None:
        if state["failed"] is not None:
            state["code"] = 2
            win.shutdown()
            app.exit(2)
            return
        done = settled()
        if done:
            stable["since"] = stable["since"] or time.monotonic()
        else:
            stable["since"] = None
        timed_out = time.monotonic() > deadline
        if (done and time.monotonic() - stable["since"] > 0.3) or timed_out:
            if timed_out:
                print(
                    f"vidstudio: the project did not settle within {timeout:.0f} s; saving the window as it is",
                    file=sys.stderr,
                )
            out.parent.mkdir(parents=True, exist_ok=True)
            ok = win.grab().save(str(out), "PNG")
            if not ok:
                print(f"vidstudio: cannot write {out}", file=sys.stderr)
            code = 1 if (timed_out or not ok) else 0
            timer.stop()
            win.shutdown()
            win.close()
            app.exit(code)

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(poll)
    timer.start()
    code = app.exec()
    timer.stop()
    return int(code)
