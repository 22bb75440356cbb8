"""Per-model behaviour of the CRUD engine, named after Zou's hook vocabulary."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Forbidden, SlateError
from ..security import Principal

M = TypeVar("M")


#: The ``scratch`` key set while a row is read to be deleted: Zou checks some states of
#: the row (a project still open) before the caller's permission on a deletion.
DELETING = "deleting"


@dataclass
class CrudContext:
    session: AsyncSession
    principal: Principal
    #: The service runtime (NATS, settings) for hooks that reach beyond the database.
    runtime: Any = None
    #: What one hook hands to a later one within the same call (relations to store).
    scratch: dict[str, Any] = field(default_factory=dict)


class CrudHooks(Generic[M]):
    """Defaults: any authenticated person reads, admins write. Override per model."""

    # --- permissions ---------------------------------------------------------------
    async def check_access(self, ctx: CrudContext, operation: str) -> None:
        """Refuse a ``create`` or ``delete`` before its body is validated or its target
        read (Zou checks these permissions first)."""
        return None

    def scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        """Restrict list and read queries to what the caller may see (no query
        parameter can widen it: filters are added on top of this statement)."""
        return stmt

    def list_scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        """Rows left out of listings only (on top of :meth:`scope`), still read one by one."""
        return stmt

    def filter_params(self, stmt: Select[Any], ctx: CrudContext, params: dict[str, str]) -> Select[Any]:
        """List filters the model's columns cannot express (a person's ``full_name``)."""
        return stmt

    async def check_read(self, ctx: CrudContext, instance: M) -> None:
        return None

    async def read_one(self, ctx: CrudContext, instance_id: uuid.UUID, *, relations: bool) -> dict[str, Any] | None:
        """GET /data/<model>/<id> answered whole without building the model's object
        (the same checks and answer as :meth:`load`, :meth:`check_read` and
        :meth:`serialize_one`, from plain rows); None (the default): the engine's path."""
        return None

    def listed_columns(self, ctx: CrudContext, *, relations: bool) -> tuple[Any, ...] | None:
        """The columns a listing without a page needs, when :meth:`serialize_rows` answers
        it from plain rows instead of the model's objects; None (the default): objects and
        :meth:`serialize_many`."""
        return None

    def listing_key(self, ctx: CrudContext) -> Hashable | None:
        """A key shared by the callers whose listing statement (:meth:`scope` and
        :meth:`list_scope` of :meth:`listed_columns`, no query parameter) is the same, so
        that it is built once per key; None (the default): built for every request."""
        return None

    async def listing_stamp(self, ctx: CrudContext) -> str | None:
        """A stamp of everything the caller's plain-row listing (:meth:`listed_columns`,
        no query parameter but ``relations``) is made of, read from the database before
        the rows: while it is unchanged, the engine answers the body it built last time
        for the same :meth:`listing_key` (so the key must also tell apart the callers
        who see different rows). None (the default): built for every request."""
        return None

    async def serialize_rows(self, ctx: CrudContext, rows: Sequence[Any], *, relations: bool) -> list[dict[str, Any]]:
        """The listing from the rows of :meth:`listed_columns`: exactly what
        :meth:`serialize_many` answers, including any row it leaves out (a person listing
        leaves out, for a client, whoever is not on their teams: a filter kept in one path
        and not the other is a permission hole)."""
        raise NotImplementedError

    async def load(self, ctx: CrudContext, stmt: Select[Any], *, instance_id: uuid.UUID) -> M | None:
        """The row of a read-one statement (get, update, delete: :meth:`scope`'s statement
        for ``instance_id``); override to read what the checks and the answer need in the
        same round trip (kept in ``ctx.scratch``)."""
        return (await ctx.session.scalars(stmt)).first()

    async def check_create(self, ctx: CrudContext, data: dict[str, Any]) -> None:
        if not ctx.principal.is_admin:
            raise Forbidden()

    async def check_update(self, ctx: CrudContext, instance: M, data: dict[str, Any]) -> None:
        if not ctx.principal.is_admin:
            raise Forbidden()

    async def check_delete(self, ctx: CrudContext, instance: M) -> None:
        if not ctx.principal.is_admin:
            raise Forbidden()

    # --- data ----------------------------------------------------------------------
    def invalid_creation(self, error: SlateError) -> SlateError:
        """The error a create body that fails validation gets (default: the field list)."""
        return error

    async def check_creation_integrity(self, ctx: CrudContext, data: dict[str, Any]) -> dict[str, Any]:
        return data

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: M | None) -> dict[str, Any]:
        """Adjust incoming fields (defaults, derived values) before create and update."""
        return data

    async def post_creation(self, ctx: CrudContext, instance: M) -> None:
        return None

    async def pre_update(self, ctx: CrudContext, instance: M, data: dict[str, Any]) -> None:
        return None

    async def post_update(self, ctx: CrudContext, instance: M, data: dict[str, Any]) -> None:
        return None

    def changed_fields(self, ctx: CrudContext, instance: M, data: dict[str, Any], *,
                       written: frozenset[str]) -> frozenset[str] | None:
        """Every field of :meth:`event_snapshot` an update changed, given ``written`` (the
        keys of ``data`` that changed the row, ``engine._written``), or None (the default)
        when the hooks cannot say: what they change themselves in ``pre_update`` or
        ``post_update`` must be in the answer. Replicas that keep none of these fields
        skip the ``:update`` event, and the writer does not wait for them
        (``events/versions.py``): a field left out is a stale replica."""
        return None

    async def pre_delete(self, ctx: CrudContext, instance: M) -> None:
        return None

    async def post_delete(self, ctx: CrudContext, instance: M) -> None:
        return None

    # --- output --------------------------------------------------------------------
    async def serialize(self, ctx: CrudContext, instance: M, *, relations: bool) -> dict[str, Any]:
        return instance.serialize()  # type: ignore[attr-defined,no-any-return]

    async def serialize_one(self, ctx: CrudContext, instance: M, *, relations: bool) -> dict[str, Any]:
        """GET /data/<model>/<id>; Zou gives some models more there than in lists."""
        return await self.serialize(ctx, instance, relations=relations)

    async def serialize_many(self, ctx: CrudContext, instances: list[M], *, relations: bool) -> list[dict[str, Any]]:
        return [await self.serialize(ctx, i, relations=relations) for i in instances]

    async def event_snapshot(self, ctx: CrudContext, instance: M) -> dict[str, Any]:
        """The row as other services' replicas see it in ``<name>:new|update`` events;
        override to add what replicas need (a project's team, a person's departments)."""
        return instance.serialize()  # type: ignore[attr-defined,no-any-return]

    def event_project_id(self, instance: M) -> uuid.UUID | None:
        return getattr(instance, "project_id", None)
