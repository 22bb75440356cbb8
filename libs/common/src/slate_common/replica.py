"""Read models fed by events: a local copy of another service's rows.

A service declares what it replicates, one :class:`Replica` per kind, and gets:

- the consumer handlers (``<kind>:new|update|delete`` and any other verb whose event
  carries a snapshot), which upsert the columns the service keeps — by default the
  model's columns found under the same names in the snapshot, plus the whole snapshot in
  a ``snapshot`` column when the model has one — and delete on ``:delete``;
- the ordering guard: every replica row keeps ``source_version``, the owner's outbox
  sequence of the event that wrote it (``events/versions.py``); an event older than the
  row is dropped, so a redelivered or late snapshot never overwrites a newer one;
- :attr:`Replica.keeps`: the snapshot fields the replica stores. An update whose writer
  named the fields it changed (``emit(changed=...)``) and changed none of these leaves
  the row as it is: the consumer acks it without a transaction and writers do not wait
  for it. The row's ``source_version`` stays that of the last event that changed what
  it keeps, which is still the newest snapshot of those fields: a skipped event's
  snapshot carries the same values (its writer held the row's lock and changed none of
  them), and any event that did change them has its own, higher or lower, version;
- :meth:`Replica.get`: the row, or, when the replica does not have that id yet, the
  owner's answer over NATS request/reply (``slate.rpc.<owner>.snapshot``) stored first —
  so an id that exists is never answered 404 because an event is late;
- :meth:`Replica.rebuild`: every row again from the owner, in pages, for a consumer
  added after the stream's oldest events were dropped.

Handlers run inside the consumer's transaction, after the inbox check, so each event
applies once. Owners answer with :func:`snapshot_rpc_handlers`.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client as NATS
from sqlalchemy import BigInteger, Table, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import sqltypes

from . import bus
from .db import transaction
from .errors import NotFound, SlateError
from .events import Event, EventHandler
from .events.consumer import PoisonEvent
from .events.models import OutboxEvent
from .logging import get_logger

log = get_logger(__name__)

#: The column every replica table has: the owner's outbox sequence of the last change.
VERSION = "source_version"

Columns = Callable[[dict[str, Any]], dict[str, Any]]
AfterUpsert = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
AfterRemove = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]


def _convert(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, sqltypes.Uuid):
        return uuid.UUID(str(value))
    if isinstance(column.type, sqltypes.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, sqltypes.Date):
        return dt.date.fromisoformat(value)
    return value


def snapshot_of(event: Event) -> dict[str, Any]:
    snapshot = event.data.get("snapshot")
    if not isinstance(snapshot, dict) or "id" not in snapshot:
        raise PoisonEvent(f"{event.name} without a snapshot")
    return snapshot


def parse_id(value: Any) -> uuid.UUID | None:
    """An id from an event; a malformed one makes the event poison."""
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise PoisonEvent(f"not an id: {value!r}") from exc


class Replicated:
    """Mixin of every replica model: the owner's version of the row (see the module)."""

    source_version: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


@functools.cache
def _upsert_statement(table: Table, keys: tuple[str, ...]) -> Any:
    """Built once per table and column set (SQLAlchemy then reuses its compiled form).
    The WHERE is the ordering guard: a row written by a newer event is left alone."""
    stmt = insert(table)
    current = table.c[VERSION]
    return stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={k: stmt.excluded[k] for k in keys if k != "id"},
        where=or_(current.is_(None), stmt.excluded[VERSION].is_(None), current < stmt.excluded[VERSION]),
    ).returning(table.c.id)


@dataclass
class Replica:
    """One replicated kind: ``owner``'s ``kind`` rows kept in ``model``."""

    model: type[Any]
    kind: str  # "project": events project:new|update|delete
    owner: str  # the service that owns the rows, asked for the ones missing here
    #: The columns to store from a snapshot; default: the model's columns of the same name.
    columns: Columns | None = None
    #: Other verbs whose events carry the kind's snapshot ("assign" -> task:assign).
    verbs: tuple[str, ...] = ()
    #: A step after a row was written (a person's department links).
    after_upsert: AfterUpsert | None = None
    #: A step after a row was deleted (the links to a deleted person).
    after_remove: AfterRemove | None = None
    #: The snapshot fields ``columns`` reads (with ``columns`` set, a replica that names
    #: none applies every update). Default: the model's column names, when the model has
    #: no ``snapshot`` column (which keeps everything) and no ``after_upsert`` step.
    fields: tuple[str, ...] | None = None
    #: Set when the service starts (``bind``): how to reach the owner.
    nc: NATS | None = field(default=None, repr=False)

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[no-any-return]

    def bind(self, nc: NATS | None) -> None:
        self.nc = nc

    @property
    def keeps(self) -> frozenset[str] | None:
        """The snapshot fields whose change this replica applies; None: every field."""
        if self.fields is not None:
            return frozenset(self.fields)
        if self.columns is not None or self.after_upsert is not None or "snapshot" in self.table.c:
            return None
        return frozenset(c.key for c in self.table.columns if c.key != VERSION)

    def kept_fields(self) -> dict[str, frozenset[str]]:
        """{event name: fields} of the updates this replica may skip (never ``:new``,
        which creates the row, nor ``:delete``)."""
        keeps = self.keeps
        if keeps is None:
            return {}
        return {f"{self.kind}:{verb}": keeps for verb in ("update", *self.verbs)}

    def values(self, snapshot: dict[str, Any], version: int | None) -> dict[str, Any]:
        table = self.table
        if self.columns is not None:
            values = {"id": parse_id(snapshot["id"]), **self.columns(snapshot)}
        else:
            values = {c.key: _convert(c, snapshot.get(c.key)) for c in table.columns
                      if c.key in snapshot and c.key not in (VERSION, "snapshot")}
        if "snapshot" in table.c and "snapshot" not in values:
            values["snapshot"] = snapshot
        values[VERSION] = version
        return values

    async def apply(self, session: AsyncSession, *, snapshot: dict[str, Any], version: int | None) -> bool:
        """Upsert one snapshot unless the row is newer; True if the row was written."""
        values = self.values(snapshot, version)
        connection = await session.connection()  # Core: no ORM bulk machinery for one row
        written = (await connection.execute(_upsert_statement(self.table, tuple(values)), values)).first()
        if written is not None and self.after_upsert is not None:
            await self.after_upsert(session, snapshot)
        return written is not None

    async def remove(self, session: AsyncSession, *, row_id: uuid.UUID, version: int | None) -> None:
        current = self.table.c[VERSION]
        stmt = delete(self.table).where(self.table.c.id == row_id)
        if version is not None:
            stmt = stmt.where(or_(current.is_(None), current <= version))
        await session.execute(stmt)
        if self.after_remove is not None:
            await self.after_remove(session, row_id)

    def handlers(self) -> dict[str, EventHandler]:
        id_key = self.kind.replace("-", "_") + "_id"

        async def upsert(session: AsyncSession, event: Event) -> None:
            await self.apply(session, snapshot=snapshot_of(event), version=event.version)

        async def remove(session: AsyncSession, event: Event) -> None:
            raw = event.data.get(id_key) or (event.data.get("snapshot") or {}).get("id")
            row_id = parse_id(raw)
            if row_id is None:
                raise PoisonEvent(f"{event.name} without {id_key}")
            await self.remove(session, row_id=row_id, version=event.version)

        out: dict[str, EventHandler] = {f"{self.kind}:new": upsert, f"{self.kind}:update": upsert,
                                        f"{self.kind}:delete": remove}
        out.update({f"{self.kind}:{verb}": upsert for verb in self.verbs})
        return out

    # --- asking the owner --------------------------------------------------------------

    async def get(self, session: AsyncSession, *, row_id: uuid.UUID) -> Any:
        """The replica row, asking the owner for it first when it is not here yet (an
        event still on its way). None when the owner does not have it either."""
        row = await session.get(self.model, row_id)
        if row is not None or self.nc is None:
            return row
        try:
            answer = await bus.request(self.nc, self.owner, "snapshot", {"kind": self.kind, "id": str(row_id)},
                                       timeout=2.0)
        except NotFound:
            return None
        except SlateError as exc:  # the owner is down or slow: answer from what we have
            log.warning("replica_fetch_failed", kind=self.kind, id=str(row_id), error=exc.message)
            return None
        log.info("replica_fetched_from_owner", kind=self.kind, id=str(row_id))
        await self.apply(session, snapshot=answer["snapshot"], version=answer.get("version"))
        return await session.get(self.model, row_id, populate_existing=True)

    async def rebuild(self, sessionmaker: async_sessionmaker[AsyncSession], *, page: int = 500) -> int:
        """Every row again from the owner, page by page (each with the owner's version at
        the time it was read, so events after it still win). The number of rows."""
        assert self.nc is not None, "bind() the replica to a NATS connection first"
        after: str | None = None
        total = 0
        while True:
            answer = await bus.request(self.nc, self.owner, "snapshots",
                                       {"kind": self.kind, "after": after, "limit": page}, timeout=30.0)
            rows = answer["snapshots"]
            async with transaction(sessionmaker) as session:
                for snapshot in rows:
                    await self.apply(session, snapshot=snapshot, version=answer.get("version"))
            total += len(rows)
            if len(rows) < page:
                log.info("replica_rebuilt", kind=self.kind, rows=total)
                return total
            after = rows[-1]["id"]


def handlers_of(replicas: list[Replica]) -> dict[str, EventHandler]:
    out: dict[str, EventHandler] = {}
    for replica in replicas:
        out.update(replica.handlers())
    return out


def keeps_of(replicas: list[Replica], *, overridden: Collection[str] = ()) -> dict[str, frozenset[str]]:
    """{event name: the snapshot fields kept} for the consumer of ``replicas``, leaving
    out the events whose handler is not the replica's (``overridden``)."""
    out: dict[str, frozenset[str]] = {}
    for replica in replicas:
        out.update({name: fields for name, fields in replica.kept_fields().items() if name not in overridden})
    return out


# --- the owner's side ----------------------------------------------------------------

Serialize = Callable[[AsyncSession, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Owned:
    """A kind this service owns and others replicate: its rows and the snapshot its
    events carry (the same function, so an answer and an event never disagree)."""

    model: type[Any]
    serialize: Serialize

    async def one(self, session: AsyncSession, *, row_id: uuid.UUID) -> dict[str, Any] | None:
        row = await session.get(self.model, row_id)
        return None if row is None else await self.serialize(session, row)

    async def page(self, session: AsyncSession, *, after: uuid.UUID | None, limit: int) -> list[dict[str, Any]]:
        stmt = select(self.model).order_by(self.model.id).limit(limit)
        if after is not None:
            stmt = stmt.where(self.model.id > after)
        return [await self.serialize(session, row) for row in (await session.scalars(stmt)).all()]


async def _current_version(session: AsyncSession) -> int:
    """The highest outbox sequence committed so far: every change visible in this
    transaction has an event at or below it."""
    return int(await session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0))) or 0)


def snapshot_rpc_handlers(
    sessionmaker: Callable[[], async_sessionmaker[AsyncSession]], owned: dict[str, Owned]
) -> dict[str, bus.Handler]:
    """``snapshot`` ({kind, id}) and ``snapshots`` ({kind, after, limit}) for the kinds
    this service owns and others replicate."""

    def kind_of(body: Any) -> Owned:
        found = owned.get(str((body or {}).get("kind")))
        if found is None:
            raise NotFound("Unknown kind")
        return found

    async def snapshot(body: Any) -> Any:
        kind = kind_of(body)
        try:
            row_id = uuid.UUID(str(body.get("id")))
        except ValueError as exc:
            raise NotFound("Malformed ID") from exc
        async with transaction(sessionmaker()) as session:
            version = await _current_version(session)
            found = await kind.one(session, row_id=row_id)
        if found is None:
            raise NotFound(f"No {body['kind']} {row_id}")
        return {"snapshot": found, "version": version}

    async def snapshots(body: Any) -> Any:
        kind = kind_of(body)
        after = uuid.UUID(str(body["after"])) if body.get("after") else None
        limit = max(1, min(int(body.get("limit") or 500), 2000))
        async with transaction(sessionmaker()) as session:
            version = await _current_version(session)
            rows = await kind.page(session, after=after, limit=limit)
        return {"snapshots": rows, "version": version}

    return {"snapshot": snapshot, "snapshots": snapshots}
