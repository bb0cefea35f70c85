"""The layering rules hold at run time: the headless core pulls in neither Qt nor torch."""

import subprocess
import sys


def test_headless_core_imports_no_qt_or_torch():
    code = (
        "import sys, vidstudio.project, vidstudio.graph, vidstudio.media, vidstudio.motion, vidstudio.nodes, vidstudio.cli\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6', 'diffusers', 'transformers', 'qtawesome'})\n"
        "print(','.join(heavy))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""
