"""VidStudio example plugin: Film Grain (VIDEO) and Wiggle (TRAJECTORY).

Kept empty on purpose: VidStudio imports ``vidstudio_example_nodes.grain`` or ``.wiggle`` only when a project
uses one of their nodes, and this package's ``__init__`` runs first, so it should stay light.
"""

__version__ = "0.1.0"
