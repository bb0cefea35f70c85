"""The desktop application: every Qt widget, and nothing a test without Qt could not reach.

The only package that imports PySide6 and qtawesome. It never imports torch: generation goes through the
background server.

Layers, from the bottom:

* The document rules are in the core (no Qt): link checks and node ids in :mod:`vidstudio.project.edits`, what
  the Viewer shows in :mod:`vidstudio.project.view`, the clipboard format in :mod:`vidstudio.project.clipboard`,
  key edits in :mod:`vidstudio.motion.curves`, trajectory and body edits in :mod:`vidstudio.motion.pathedit`,
  timecode in :mod:`vidstudio.media.timecode`, and the undoable edits in :mod:`vidstudio.project.editor`.
  :mod:`~vidstudio.ui.widgets.colors` (no Qt): port and category colours.
* :mod:`~vidstudio.ui.state.session` (QtCore/QtGui, no widgets): the evented model: one project, one
  ``QUndoStack`` (every edit is an :class:`~vidstudio.ui.state.session.EditCommand`), selection, playhead,
  evaluation and frames on worker threads (:mod:`~vidstudio.ui.state.evaluation`), autosave
  (:mod:`~vidstudio.ui.state.autosave`), background tasks and jobs (:mod:`~vidstudio.ui.state.tasks`).
* Widgets that subscribe to the session: :mod:`~vidstudio.ui.widgets.node_editor` (with
  :mod:`~vidstudio.ui.widgets.palette`), :mod:`~vidstudio.ui.widgets.viewer.viewer` (with :mod:`~vidstudio.ui.widgets.viewer.overlays`),
  :mod:`~vidstudio.ui.widgets.timeline`, :mod:`~vidstudio.ui.widgets.inspector` (with :mod:`~vidstudio.ui.widgets.param_editors`),
  :mod:`~vidstudio.ui.widgets.jobs`, :mod:`~vidstudio.ui.widgets.dialogs.export_dialog`, and :mod:`~vidstudio.ui.widgets.main_window`
  that holds them; :mod:`~vidstudio.ui.app` starts it all (``vidstudio gui``).
* Motion editing: :mod:`~vidstudio.ui.state.motion_edit` (what is being edited, shared by Viewer and Inspector),
  :mod:`~vidstudio.ui.widgets.viewer.motion_overlays` (paths drawn and edited with the mouse, tracks, boxes, the physics
  scene) and :mod:`~vidstudio.ui.widgets.motion_editors` (the Inspector's path and body editors).
* Plugins: :mod:`~vidstudio.ui.widgets.dialogs.plugins_dialog` (Edit > Plugins…).

Extension points for other layers: :func:`vidstudio.ui.widgets.viewer.overlays.register_overlay` (draw and edit a port
type over the Viewer's frame), :data:`vidstudio.ui.widgets.param_editors.EDITORS` (an editor per parameter kind) and
:func:`vidstudio.ui.widgets.param_editors.register_param_editor` (an editor for particular parameters), and
:class:`vidstudio.ui.state.tasks.JobList` (generation jobs appear in the Jobs pane).
"""
