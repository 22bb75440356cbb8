"""Zou's error bodies and messages, as the gateway answers them.

A leaf module: the server and the local handlers both use it and it imports
nothing of the gateway's.
"""

from __future__ import annotations

import orjson

NOT_FOUND_MESSAGE = ("404 Not Found: The requested URL was not found on the server. "
                     "If you entered the URL manually please check your spelling and try again.")
METHOD_NOT_ALLOWED_MESSAGE = "The method is not allowed for the requested URL."
INTERNAL_ERROR_MESSAGE = "Internal server error"
#: The standard HTTP 403 description, which Zou answers to a non-administrator.
FORBIDDEN_MESSAGE = ("You don't have the permission to access the requested resource. "
                     "It is either read-protected or not readable by the server.")

JSON_HEADERS: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]


def error_body(message: str) -> bytes:
    """``{"error": true, "message": ...}``, Zou's error body."""
    return orjson.dumps({"error": True, "message": message})
