"""Slate import-export service."""
