"""``python -m vidstudio``: the same as the ``vidstudio`` command."""

import sys

from vidstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
