"""The desktop application: every Qt widget, and nothing a test without Qt could not reach.

The only package that imports PySide6 and qtawesome. It never imports torch: generation goes through the
background server.

Layers, from the bottom:

* :mod:`~vidstudio.ui.docops` (no Qt): link checks, what the Viewer shows, the clipboard format, key
  editing, paths, timecode. :mod:`~vidstudio.ui.colors` (no Qt): port and category colours.
* :mod:`~vidstudio.ui.session` (QtCore/QtGui, no widgets): the evented model: one project, one
  ``QUndoStack`` (every edit is an :class:`~vidstudio.ui.session.EditCommand`), selection, playhead,
  evaluation and frames on worker threads (:mod:`~vidstudio.ui.evaluation`), autosave
  (:mod:`~vidstudio.ui.autosave`), background tasks and jobs (:mod:`~vidstudio.ui.tasks`).
* Widgets that subscribe to the session: :mod:`~vidstudio.ui.node_editor` (with
  :mod:`~vidstudio.ui.palette`), :mod:`~vidstudio.ui.viewer` (with :mod:`~vidstudio.ui.overlays`),
  :mod:`~vidstudio.ui.timeline`, :mod:`~vidstudio.ui.inspector` (with :mod:`~vidstudio.ui.param_editors`),
  :mod:`~vidstudio.ui.jobs`, :mod:`~vidstudio.ui.export_dialog`, and :mod:`~vidstudio.ui.main_window`
  that holds them; :mod:`~vidstudio.ui.app` starts it all (``vidstudio gui``).
* Motion editing: :mod:`~vidstudio.ui.pathops` (no Qt: edits of trajectory documents and body lists),
  :mod:`~vidstudio.ui.motion_edit` (what is being edited, shared by Viewer and Inspector),
  :mod:`~vidstudio.ui.motion_overlays` (paths drawn and edited with the mouse, tracks, boxes, the physics
  scene) and :mod:`~vidstudio.ui.motion_editors` (the Inspector's path and body editors).
* Plugins: :mod:`~vidstudio.ui.plugins_dialog` (Edit > Plugins…).

Extension points for other layers: :func:`vidstudio.ui.overlays.register_overlay` (draw and edit a port
type over the Viewer's frame), :data:`vidstudio.ui.param_editors.EDITORS` (an editor per parameter kind) and
:func:`vidstudio.ui.param_editors.register_param_editor` (an editor for particular parameters), and
:class:`vidstudio.ui.tasks.JobList` (generation jobs appear in the Jobs pane).
"""
