"""Helpers shared by the backend tests (import as ``from backend.clips import ...``): motion clips, the
Time-to-Move conditioning built from one, frames read back from what a pipeline was given, and a spy on what the
denoiser sees."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from backend.conftest import picture
from vidstudio.backend.bundle import Conditioning, Keyframe


def motion_clip(frames: int, w: int = 32, h: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A picture with a bright square dragged left to right: ``(T, h, w, 3)`` frames and ``(T, h, w)`` masks."""
    bg = picture(h, w, seed=3)
    video = np.repeat(bg[None], frames, axis=0).copy()
    masks = np.zeros((frames, h, w), np.float32)
    for i in range(frames):
        x0 = 2 + int(round(i * (w - 18) / max(frames - 1, 1)))
        video[i, 8:24, x0 : x0 + 14] = (1.0, 0.9, 0.2)
        masks[i, 8:24, x0 : x0 + 14] = 1.0
    return video, masks


def ttm_bundle(video: np.ndarray, masks: np.ndarray, **kw: Any) -> Conditioning:
    """Time-to-Move conditioning: ``video``'s first frame as the keyframe, ``video`` as the motion signal, ``masks``
    as its mask; ``kw`` sets the rest (prompt, t_weak, t_strong, steps, seed...) or replaces those."""
    return Conditioning(**{"keyframes": [Keyframe(0, video[0])], "motion": video, "motion_mask": masks, **kw})


def pil_array(img: Any) -> np.ndarray:
    """A PIL image as ``(H, W, 3)`` float32 in [0, 1]."""
    return np.asarray(img, dtype=np.float32) / 255.0


def frames_of(video: Any) -> np.ndarray:
    """A list of PIL frames (as a pipeline was given them) as ``(T, H, W, 3)`` float32 in [0, 1]."""
    return np.stack([pil_array(f) for f in video])


@contextlib.contextmanager
def denoiser_inputs(calls: list[tuple[Any, float]]) -> Iterator[Any]:
    """Yields a ``call_hook(plan, kwargs)`` that appends ``(hidden_states, timestep)`` to ``calls`` at every call of
    the pipeline's denoiser (transformer or UNet; a forward pre-hook), the hooks removed on leaving the block."""
    hooks = []

    def call_hook(plan: Any, kwargs: dict[str, Any]) -> None:
        import torch

        net = getattr(plan.pipe, "transformer", None) or plan.pipe.unet

        def pre(module: Any, args: Any, kw: dict[str, Any]) -> None:
            hidden = kw.get("hidden_states", args[0] if args else None)
            t = kw.get("timestep", args[1] if len(args) > 1 else None)
            calls.append((hidden.detach().clone(), torch.as_tensor(t).flatten()[0].item()))

        hooks.append(net.register_forward_pre_hook(pre, with_kwargs=True))

    try:
        yield call_hook
    finally:
        for h in hooks:
            h.remove()
