"""Helpers shared by the test folders: plain modules, imported by tests and conftest files alike."""
