"""Slate planning service."""
