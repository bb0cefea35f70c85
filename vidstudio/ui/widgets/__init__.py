"""Widgets of the desktop application: the main window, the Node Editor, the Timeline, the Inspector and its
parameter editors, the Jobs pane; the Viewer and its overlays in :mod:`vidstudio.ui.widgets.viewer`, dialogs in
:mod:`vidstudio.ui.widgets.dialogs`. Widgets read and change application state only through
:mod:`vidstudio.ui.state` (the session, tasks, the generation service), never through each other's children.
"""
