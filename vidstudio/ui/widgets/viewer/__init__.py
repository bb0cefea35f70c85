"""The Viewer (the frame at the playhead, pan and zoom) and the overlays drawn and edited over it: guides,
trajectories, boxes, tracks and the physics scene (:func:`~vidstudio.ui.widgets.viewer.overlays.register_overlay`
adds one for a port type)."""
