"""Entry point of the desktop bundle (PyInstaller): the same command line as ``vidstudio``; with no
arguments (a double-click in the application menu) it opens the desktop application."""

import sys

from vidstudio.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["gui"]))
