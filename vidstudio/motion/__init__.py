"""Motion: the pure math of keyframes, trajectories, camera moves, physics and rasterising.

Headless: imports numpy, scipy, pymunk and Pillow, never Qt or torch.

Conventions used by every module here:

* Positions are in pixels of the output frame, continuous coordinates with the origin at the top-left
  corner of the top-left pixel, x to the right and y down; the centre of pixel ``(i, j)`` (column, row) is
  ``(i + 0.5, j + 0.5)`` and the centre of a ``W x H`` frame is ``(W / 2, H / 2)``.
* Time is in frames (float allowed); frame ``f`` of a clip of ``T`` frames is ``0 <= f < T``. Seconds are
  converted with the project's fps only at the edges.
* Angles are in degrees in parameters and documents, radians inside the math.
* Affines are ``3 x 3`` float64 matrices acting on column vectors ``(x, y, 1)``.
* World pixels are the output frame's pixels while the camera rests; the ``(T, 3, 3)`` camera matrices map
  world to frame, and object motion composes as ``camera[t] @ object[t]`` everywhere.

Modules: :mod:`~vidstudio.motion.curves` and :mod:`~vidstudio.motion.easing` (F-curves),
:mod:`~vidstudio.motion.splines` and :mod:`~vidstudio.motion.trajectory` (drawn paths and their JSON document),
:mod:`~vidstudio.motion.tracks` (per-frame motion: the TRAJECTORY value), :mod:`~vidstudio.motion.camera`,
:mod:`~vidstudio.motion.physics` (pymunk), :mod:`~vidstudio.motion.sprites`, :mod:`~vidstudio.motion.raster`
(masks, boxes, heatmaps, flow), :mod:`~vidstudio.motion.animatic` (the CPU preview),
:mod:`~vidstudio.motion.retime` and :mod:`~vidstudio.motion.warp`. Heavy dependencies (scipy, pymunk,
OpenCV) are imported where they are used, so ``import vidstudio.motion`` stays light.
"""

from vidstudio.motion.curves import FCurve, Keyframe
from vidstudio.motion.easing import ease

__all__ = ["FCurve", "Keyframe", "ease"]
