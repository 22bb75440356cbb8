"""Slate production service."""
