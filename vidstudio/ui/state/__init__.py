"""Application state of the desktop application, on QtCore (and QtGui's undo stack) only: no widgets.

The session (one project and its undo stack) and what it composes: the transport (playhead, in/out,
playback), the view state (selection, pin, result tracks), the evaluation scheduler and the frame cache;
beside them background tasks and jobs, the generation service that talks to the server through
:mod:`vidstudio.client`, autosave and settings. Widgets in :mod:`vidstudio.ui.widgets` subscribe to the object
that owns what they show, handed to them explicitly (never found with ``findChild``). Nothing here imports a
widget: an import-linter layers contract in ``pyproject.toml`` holds ``vidstudio.ui.widgets`` above
``vidstudio.ui.state``, and ``tests/ui/test_ui_rooms.py`` checks that no module here imports
``PySide6.QtWidgets``.
"""
