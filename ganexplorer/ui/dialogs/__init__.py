"""Dialogs: export, training wizard."""
