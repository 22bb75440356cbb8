"""Optional query-string values of listing filters, parsed with Zou's 400s."""

from __future__ import annotations

import datetime as dt

from slate_common.errors import BadRequest


def optional_date(value: str | None) -> dt.datetime | None:
    """An ISO date or datetime (``Z`` accepted) as naive UTC, or None when absent."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError as exc:
        raise BadRequest(f"Invalid date: {value}") from exc
