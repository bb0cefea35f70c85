"""The dark theme: Fusion style, a dark palette, a short style sheet, and icons from qtawesome.

Colours follow the conventions of compositing tools (Nuke, Resolve, Blender): neutral greys so that the
picture is judged against neutral surroundings, one accent colour (orange) for selection and the playhead.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication

BG = "#232323"  # window background
PANEL = "#2b2b2b"  # panes
BASE = "#1c1c1c"  # text fields, lists
RAISED = "#353535"  # buttons
BORDER = "#3f3f3f"
TEXT = "#d6d6d6"
TEXT_DIM = "#8c8c8c"
ACCENT = "#f0a030"  # selection, playhead
ERROR = "#e05252"
WARNING = "#e0b040"
OK = "#6cbf6c"
CACHED = "#4f8fd6"

STYLE_SHEET = f"""
QMainWindow::separator {{ background: {BG}; width: 4px; height: 4px; }}
QMainWindow::separator:hover {{ background: {ACCENT}; }}
QDockWidget {{ color: {TEXT}; font-weight: 600; }}
QDockWidget::title {{ background: {PANEL}; padding: 4px 8px; border-bottom: 1px solid {BORDER}; }}
QToolBar {{ background: {BG}; border: none; spacing: 2px; padding: 2px; }}
QToolBar::separator {{ background: {BORDER}; width: 1px; margin: 4px 6px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 3px; padding: 3px; }}
QToolButton:hover {{ background: {RAISED}; border-color: {BORDER}; }}
QToolButton:checked {{ background: #4a3a20; border-color: {ACCENT}; }}
QToolButton:disabled {{ color: #5a5a5a; }}
QStatusBar {{ background: {BG}; color: {TEXT_DIM}; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: #4a3a20; }}
QLineEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 3px; padding: 2px 4px; selection-background-color: #6b4d1c;
}}
QLineEdit:focus, QPlainTextEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{ border-color: {ACCENT}; }}
QPushButton {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 3px; padding: 4px 12px; }}
QPushButton:hover {{ border-color: #5a5a5a; }}
QPushButton:default {{ border-color: {ACCENT}; }}
QPushButton:disabled {{ color: #5a5a5a; }}
QProgressBar {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 3px; text-align: center; height: 14px; }}
QProgressBar::chunk {{ background: #b0782a; border-radius: 2px; }}
QSlider::groove:horizontal {{ height: 4px; background: {BASE}; border: 1px solid {BORDER}; border-radius: 2px; }}
QSlider::handle:horizontal {{ width: 10px; margin: -5px 0; background: #9a9a9a; border-radius: 5px; }}
QSlider::handle:horizontal:hover {{ background: {ACCENT}; }}
QSlider::sub-page:horizontal {{ background: #7a5a26; border-radius: 2px; }}
QScrollArea {{ border: none; }}
QTreeWidget, QListWidget {{ background: {BASE}; border: 1px solid {BORDER}; }}
QTreeWidget::item:selected, QListWidget::item:selected {{ background: #6b4d1c; }}
QHeaderView::section {{ background: {PANEL}; border: none; border-right: 1px solid {BORDER}; padding: 3px 6px; }}
QToolTip {{ background: #101010; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QLabel[role="dim"] {{ color: {TEXT_DIM}; }}
QLabel[role="error"] {{ color: {ERROR}; }}
QLabel[role="heading"] {{ font-weight: 600; font-size: 11pt; }}
QFrame[role="banner"] {{ background: #2f2a22; border: 1px solid #4d4030; border-radius: 3px; }}
"""


def dark_palette() -> QPalette:
    """The application palette."""
    p = QPalette()
    c = QColor
    p.setColor(QPalette.ColorRole.Window, c(BG))
    p.setColor(QPalette.ColorRole.WindowText, c(TEXT))
    p.setColor(QPalette.ColorRole.Base, c(BASE))
    p.setColor(QPalette.ColorRole.AlternateBase, c(PANEL))
    p.setColor(QPalette.ColorRole.ToolTipBase, c("#101010"))
    p.setColor(QPalette.ColorRole.ToolTipText, c(TEXT))
    p.setColor(QPalette.ColorRole.PlaceholderText, c(TEXT_DIM))
    p.setColor(QPalette.ColorRole.Text, c(TEXT))
    p.setColor(QPalette.ColorRole.Button, c(RAISED))
    p.setColor(QPalette.ColorRole.ButtonText, c(TEXT))
    p.setColor(QPalette.ColorRole.BrightText, c("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, c(ACCENT))
    p.setColor(QPalette.ColorRole.Highlight, c("#8a6224"))
    p.setColor(QPalette.ColorRole.HighlightedText, c("#ffffff"))
    p.setColor(QPalette.ColorRole.Light, c("#4a4a4a"))
    p.setColor(QPalette.ColorRole.Midlight, c("#3a3a3a"))
    p.setColor(QPalette.ColorRole.Mid, c("#2a2a2a"))
    p.setColor(QPalette.ColorRole.Dark, c("#151515"))
    p.setColor(QPalette.ColorRole.Shadow, c("#000000"))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, c("#5d5d5d"))
    return p


def apply(app: QApplication) -> None:
    """Applies the Fusion style, the dark palette, the style sheet and the UI font to ``app``."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    font = QFont(app.font())
    if font.pointSizeF() > 0:
        font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)


_ICON_CACHE: dict[tuple[str, str], QIcon] = {}


def icon(name: str, color: str = TEXT) -> QIcon:
    """A qtawesome icon (``"mdi6.content-save"``) in ``color``, with a dimmed disabled state; an empty
    icon when the name is unknown to the installed qtawesome."""
    key = (name, color)
    if key not in _ICON_CACHE:
        try:
            import qtawesome as qta

            _ICON_CACHE[key] = qta.icon(name, color=color, color_disabled="#555555")
        except Exception:  # an icon font without that glyph must not stop the application
            _ICON_CACHE[key] = QIcon()
    return _ICON_CACHE[key]
