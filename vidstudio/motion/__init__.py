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
"""

from vidstudio.motion.curves import FCurve, Keyframe
from vidstudio.motion.easing import ease

__all__ = ["FCurve", "Keyframe", "ease"]
