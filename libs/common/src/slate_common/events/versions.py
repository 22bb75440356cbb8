"""What an event carries beside its payload, in headers.

``Slate-Version``: every publication of an outbox row (by the request's settler or by the
relay) carries the row's outbox sequence. Two transactions changing one row take that
row's lock in turn, so the later change has the higher sequence: replicas keep the
snapshot with the highest version and drop an older one delivered late (a redelivery, or
two writers publishing out of commit order). ``updated_at`` cannot order them: it has
one-second precision.

``Slate-Changed``: the snapshot fields an update changed, when its writer knows them
(``emit(changed=...)``; the CRUD engine's update for the models whose hooks say so). A
replica that keeps none of them has nothing to apply: its consumer acks the event
without a transaction and a writer does not wait for it (``Replica.keeps``,
docs/consistency.md). No header: the fields are unknown, every consumer applies it.
"""

from __future__ import annotations

from collections.abc import Iterable

VERSION_HEADER = "Slate-Version"
CHANGED_HEADER = "Slate-Changed"


def version_header(seq: int) -> dict[str, str]:
    return {VERSION_HEADER: str(seq)}


def version_of(headers: dict[str, str] | None) -> int | None:
    raw = (headers or {}).get(VERSION_HEADER)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def changed_header(fields: Iterable[str]) -> dict[str, str]:
    """The header naming the snapshot fields an update changed (sorted, comma-separated)."""
    return {CHANGED_HEADER: ",".join(sorted(set(fields)))}


def changed_of(headers: dict[str, str] | None) -> frozenset[str] | None:
    """The fields of a ``Slate-Changed`` header; None without one (unknown: all of them)."""
    raw = (headers or {}).get(CHANGED_HEADER)
    if raw is None:
        return None
    return frozenset(field for field in raw.split(",") if field)


def affects(changed: frozenset[str] | None, keeps: frozenset[str] | None) -> bool:
    """Whether an event that changed ``changed`` (None: unknown) matters to a consumer that
    keeps ``keeps`` of its snapshot (None: all of it)."""
    return changed is None or keeps is None or not changed.isdisjoint(keeps)
