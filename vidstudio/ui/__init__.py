"""The desktop application: every Qt widget, and nothing a test without Qt could not reach.

The only package that imports PySide6 and qtawesome. It never imports torch: generation goes through the
background server.
"""
