"""Application state of the desktop application, on QtCore (and QtGui's undo stack) only: no widgets.

The session (one project, its undo stack and the evaluation scheduling), background tasks and jobs, the
generation service that talks to the server through :mod:`vidstudio.client`, autosave and settings. Widgets
in :mod:`vidstudio.ui.widgets` subscribe to these objects; nothing here imports a widget (an import-linter
layers contract in ``pyproject.toml`` holds ``vidstudio.ui.widgets`` above ``vidstudio.ui.state``).
"""
