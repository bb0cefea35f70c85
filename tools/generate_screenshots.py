"""Screenshots of Generate in the desktop application: the main window mid-job and after.

    python tools/generate_screenshots.py OUT_DIR [--steps 12]

Builds a tiny random LTX model (``vidstudio dev tiny-model``, in a subprocess: this process is the GUI and never
imports torch) into the models folder of a throwaway local server, opens the text_to_video example pointed at
it, presses Generate, and saves ``generate-running.png`` (at the first step preview) and ``generate-done.png``
(the result on the timeline, in the Viewer). The local server is started by the GUI and stopped when the window
closes, as for an artist. Runs headless (``QT_QPA_PLATFORM=offscreen``) in about half a minute on a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder for the PNGs")
    ap.add_argument("--steps", type=int, default=12, help="denoising steps (default 12)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="vidstudio-shots-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.update(
        VIDSTUDIO_SERVER_DATA=str(tmp / "server"),
        VIDSTUDIO_CONFIG_DIR=str(tmp / "config"),
        VIDSTUDIO_RECOVERY_DIR=str(tmp / "recovery"),
        VIDSTUDIO_PLUGINS_DIR=str(tmp / "plugins"),
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="2",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run(
        [sys.executable, "-m", "vidstudio", "dev", "tiny-model", "ltx", str(tmp / "server" / "models" / "tiny-ltx")],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    doc = json.loads((ROOT / "resources" / "examples" / "text_to_video.vidproj").read_text())
    for n in doc["nodes"]:
        if n["type"] == "LoadModel":
            n["params"].update(model="tiny-ltx", family="auto")
        if n["type"] == "Conditioning":
            n["params"].update(steps=args.steps)
    project = tmp / "shot" / "text_to_video.vidproj"
    project.parent.mkdir()
    project.write_text(json.dumps(doc, indent=2))

    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QTimer

    from vidstudio.ui.app import application
    from vidstudio.ui.widgets.main_window import MainWindow, QuietPrompts

    app = application()
    win = MainWindow(prompts=QuietPrompts(None), persist=False)  # type: ignore[arg-type]
    win.prompts.parent = win
    win.resize(1600, 960)
    win.default_layout()
    win.show()
    state: dict = {"job": None, "running": False, "code": 1}

    def grab(name: str) -> None:
        path = args.out / name
        win.grab().save(str(path), "PNG")
        print(f"wrote {path}")

    def changed() -> None:
        job = state["job"]
        if not state["running"] and job.preview is not None and (job.step or 0) >= max(2, args.steps // 2):
            state["running"] = True
            grab("generate-running.png")
        if job.is_final:
            if job.status != "done":
                print(f"the job {job.status}: {job.message}", file=sys.stderr)
                win.close()
                return
            s = win.session
            s.set_playhead(s.results[-1].clip.frame_count // 2)
            win.viewer.frame_painted.connect(lambda _i: QTimer.singleShot(300, finish))

    def finish() -> None:
        if state["code"] == 0:
            return
        state["code"] = 0
        grab("generate-done.png")
        win.close()

    def opened(_p: str) -> None:
        QTimer.singleShot(500, go)

    def go() -> None:
        job = win.generate()
        state["job"] = job
        job.changed.connect(changed)

    win.opened.connect(opened)
    win.open_path(str(project), ask=False)
    QTimer.singleShot(300_000, win.close)
    app.exec()
    return state["code"]


if __name__ == "__main__":
    sys.exit(main())
