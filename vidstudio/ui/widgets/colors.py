"""Colours of port types and node categories, as ``#rrggbb`` strings (Qt-free).

Built-in port types have fixed colours chosen to be told apart on a dark background; a type a plugin
declares (``"plugin.TYPE"``) or a category nobody listed gets a stable colour derived from its name, so new
node types look right without a change here.
"""

from __future__ import annotations

import colorsys
import hashlib

#: Colours of the built-in port types.
PORT_COLORS: dict[str, str] = {
    "IMAGE": "#b48ead",
    "VIDEO": "#e5954a",
    "TEXT": "#e8d06a",
    "NUMBER": "#a3a3a3",
    "CURVE": "#9bd26b",
    "TRAJECTORY": "#4fd1c5",
    "CAMERA": "#5a9cf0",
    "PHYSICS_SCENE": "#e0675f",
    "SPRITE": "#f08fc0",
    "MODEL": "#8f7cf0",
    "CONDITIONING": "#d9a3ff",
    "MASK": "#dddddd",
    "BOXES": "#6fc38f",
    "FLOW": "#42a5d6",
    "AUDIO": "#e8c547",
    "ANY": "#7d8590",
}

#: Header colours of well-known node categories.
CATEGORY_COLORS: dict[str, str] = {
    "Input": "#3d6b4f",
    "Camera": "#2f5a8a",
    "Output": "#8a4a2f",
    "Motion": "#2f7a78",
    "Physics": "#8a3f3a",
    "Generate": "#5b4a8f",
    "Model": "#5b4a8f",
    "Conditioning": "#6f4a8a",
    "Color": "#7a6a2f",
    "Compositing": "#5a5f6a",
}


def _hashed(name: str, saturation: float, value: float) -> str:
    h = int(hashlib.sha1(name.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    r, g, b = colorsys.hsv_to_rgb(h, saturation, value)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def port_color(port_type: str) -> str:
    """The colour of a port type (``#rrggbb``): fixed for built-ins, derived from the name otherwise."""
    t = str(port_type)
    return PORT_COLORS.get(t) or _hashed(t, 0.55, 0.9)


def category_color(category: str) -> str:
    """The header colour of nodes of ``category`` (``#rrggbb``)."""
    return CATEGORY_COLORS.get(category) or _hashed(category or "Misc", 0.45, 0.5)
