"""Renders the application and project-file icons (packaging/linux/icons/*.svg) to the PNG sizes of the
freedesktop hicolor theme, with Qt's SVG renderer: ``python tools/make_icons.py``. The PNGs are committed."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ROOT = Path(__file__).resolve().parents[1] / "packaging" / "linux" / "icons"


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841  (QImage painting needs the application)
    for svg in sorted(ROOT.glob("*.svg")):
        renderer = QSvgRenderer(str(svg))
        for size in SIZES:
            image = QImage(size, size, QImage.Format.Format_ARGB32)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter)
            painter.end()
            out = (
                ROOT
                / "hicolor"
                / f"{size}x{size}"
                / ("apps" if svg.stem == "vidstudio" else "mimetypes")
                / f"{svg.stem}.png"
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            image.save(str(out))
            print(out.relative_to(ROOT.parents[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
