"""docs/backend.md's family, capability and frame-rule tables, generated from the family specs.

``python -m vidstudio.families._docs docs/backend.md`` rewrites the tables between the
``<!-- families:NAME -->`` and ``<!-- /families:NAME -->`` markers; ``--check`` exits 1 when they differ
(tests/backend/test_families_docs.py runs the check).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from vidstudio.families._registry import SPECS
from vidstudio.families._spec import CONTROLS

_WORDS = {"first": "frame 0", "first_last": "frame 0 (+ last)", "any": "any frame"}


def family_table() -> str:
    """The family table: id, title, pipelines, checkpoint variants and published checkpoints (Markdown)."""
    rows = [
        "| family id | title | pipelines | checkpoint variants (from `model_index.json` and configs) |",
        "|---|---|---|---|",
    ]
    for f, s in SPECS.items():
        rows.append(
            f"| `{f}` | {s.title} | {s.pipelines_text or ', '.join(dict.fromkeys(s.pipelines.values()))} | "
            f"{s.variants_text or ', '.join(f'`{v.id}`' for v in s.variants)} |"
        )
    return "\n".join(rows)


def checkpoint_table() -> str:
    """The published checkpoints each spec recognises, with their defaults (Markdown)."""
    rows = [
        "| family | variant | checkpoint | recognised by | keyframes | steps | guidance | fps | examples |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f, s in SPECS.items():
        for v in s.variants:
            for k in v.checkpoints:
                cond = (
                    ", ".join(
                        f"{w.file.split('/')[0]} `{w.key}` {w.op}{'' if w.value is None else ' ' + repr(w.value)}"
                        for w in (*v.when, *k.when)
                    )
                    or "the pipeline class"
                )
                kf = _WORDS.get(k.keyframes, "") if k.keyframes else "-"
                if "keyframe_last" in k.requires:
                    kf = "frame 0 and last (both needed)"
                steps = k.default_steps or s.default_steps
                guidance = s.default_guidance if k.default_guidance is None else k.default_guidance
                extra = " (2 experts)" if k.experts > 1 else " (distilled)" if k.distilled else ""
                rows.append(
                    f"| `{f}` | `{v.id}` | `{k.id}`{extra} | {cond} | {kf} | {steps} | {guidance:g} | "
                    f"{s.fps_for(k.id)[0]} | "
                    f"{', '.join(k.examples)} |"
                )
    return "\n".join(rows)


def _cell(control: str, spec) -> str:
    s = spec.controls.get(control)
    if s is None:
        return "-"
    if s.cell:
        return s.cell
    if control == "keyframes":
        if s.variant_frames:
            return "; ".join(f"{v}: {_WORDS[fr]}" for v, fr in s.variant_frames.items())
        return _WORDS[s.frames]
    return "/".join(s.variants) if s.variants else "yes"


def capability_table() -> str:
    """The capability table: one row per control, one column per family (Markdown)."""
    rows = ["| control | " + " | ".join(SPECS) + " |", "|---|" + "---|" * len(SPECS)]
    for c in CONTROLS:
        rows.append(f"| `{c}` | " + " | ".join(_cell(c, s) for s in SPECS.values()) + " |")
    return "\n".join(rows)


def rules_table() -> str:
    """The frame and size rules, with each family's native size and frame rate (Markdown)."""
    rows = [
        "| family | frames | width and height | native | default steps (range) | guidance (range) |",
        "|---|---|---|---|---|---|",
    ]
    for f, s in SPECS.items():
        w, h, fps = s.native
        rows.append(
            f"| {f} | {s.rule.frames_rule()} | divisible by {s.rule.side_multiple} | {w}x{h}, {fps} fps | "
            f"{s.default_steps} ({s.recommended_steps[0]}-{s.recommended_steps[1]}) | {s.default_guidance:g} "
            f"({s.guidance_range[0]:g}-{s.guidance_range[1]:g}) |"
        )
    return "\n".join(rows)


TABLES = {
    "families": family_table,
    "checkpoints": checkpoint_table,
    "capabilities": capability_table,
    "rules": rules_table,
}


def render(text: str) -> str:
    """``text`` with every ``<!-- families:NAME -->...<!-- /families:NAME -->`` block replaced by the
    generated table NAME.

    Raises:
        ValueError: for a marker naming no table.
    """

    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in TABLES:
            raise ValueError(f"docs marker families:{name}: no such table; expected one of {', '.join(TABLES)}")
        return f"<!-- families:{name} -->\n{TABLES[name]()}\n<!-- /families:{name} -->"

    return re.sub(r"<!-- families:(\w+) -->.*?<!-- /families:\1 -->", sub, text, flags=re.S)


def main(argv: list[str] | None = None) -> int:
    """``python -m vidstudio.families._docs FILE [--check]``: rewrite (or check) the generated tables."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or ["docs/backend.md"]
    stale = []
    for p in map(Path, paths):
        old = p.read_text()
        new = render(old)
        if new != old:
            stale.append(str(p))
            if not check:
                p.write_text(new)
    if check and stale:
        print(
            f"generated tables are stale in {', '.join(stale)}: run python -m vidstudio.families._docs "
            f"{' '.join(stale)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
