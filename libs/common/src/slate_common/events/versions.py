"""The version an event carries beside its payload.

Every publication of an outbox row (by the request's settler or by the relay) carries the
row's outbox sequence in the ``Slate-Version`` header. Two transactions changing one row
take that row's lock in turn, so the later change has the higher sequence: replicas keep
the snapshot with the highest version and drop an older one delivered late (a redelivery,
or two writers publishing out of commit order). ``updated_at`` cannot order them: it has
one-second precision.
"""

from __future__ import annotations

VERSION_HEADER = "Slate-Version"


def version_header(seq: int) -> dict[str, str]:
    return {VERSION_HEADER: str(seq)}


def version_of(headers: dict[str, str] | None) -> int | None:
    raw = (headers or {}).get(VERSION_HEADER)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
