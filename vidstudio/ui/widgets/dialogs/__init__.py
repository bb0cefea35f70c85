"""Dialogs: Export, Plugins and Preferences."""
