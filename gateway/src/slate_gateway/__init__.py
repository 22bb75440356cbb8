"""Slate's API gateway: one public HTTP entry point in front of Slate's services."""

__version__ = "0.1.0"
