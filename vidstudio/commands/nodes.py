"""``vidstudio nodes [--json]``: every node type with its ports and parameters."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio nodes`` to the subcommand parser ``sub``."""
    p = sub.add_parser("nodes", help="list node types with their ports and parameters", description=__doc__)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio nodes`` (the node types, their ports and parameters); returns the exit status."""
    from vidstudio.nodes import default_registry
    from vidstudio.nodes.catalogue import catalogue

    doc = catalogue(default_registry())
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
        return 0
    by_cat: dict[str, list[dict]] = {}
    for d in doc["nodes"]:
        by_cat.setdefault(d.get("category", "Misc"), []).append(d)
    for cat in sorted(by_cat):
        print(f"{cat}")
        for d in by_cat[cat]:
            if d.get("available") is False:
                print(f"  {d['type']:<24} UNAVAILABLE: {d.get('reason')}")
                continue
            src = "" if d.get("source") in (None, "builtin") else f"  [plugin {d['source']}]"
            print(f"  {d['type']:<24} {d.get('description', '')}{src}")
            ins = ", ".join(
                f"{i['name']}:{i['type']}{'?' if i['optional'] else ''}{'*' if i['multi'] else ''}" for i in d["inputs"]
            )
            outs = ", ".join(f"{o['name']}:{o['type']}" for o in d["outputs"])
            print(f"      in  {ins or '-'}")
            print(f"      out {outs or '-'}")
            for prm in d["params"]:
                rng = ""
                if "min" in prm or "max" in prm:
                    rng = f" [{prm.get('min', '')}..{prm.get('max', '')}]"
                if "choices" in prm:
                    rng = f" {{{'|'.join(map(str, prm['choices']))}}}"
                anim = " (keyable)" if prm.get("animatable") else ""
                print(f"      - {prm['name']}: {prm['kind']} = {prm['default']!r}{rng}{anim}")
    from vidstudio.families import table_lines

    print()
    print("Model families and the controls they honour (vidstudio nodes --json: 'capabilities')")
    for line in table_lines():
        print(f"  {line}")
    return 0
