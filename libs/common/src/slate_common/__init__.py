"""Slate shared infrastructure. No domain rules live here."""
