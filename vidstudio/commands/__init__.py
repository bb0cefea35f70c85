"""Subcommands of the ``vidstudio`` command line, one module each (see :mod:`vidstudio.cli`)."""
