"""Slate auth service."""
