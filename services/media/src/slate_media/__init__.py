"""Slate media service."""
