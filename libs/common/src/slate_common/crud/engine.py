from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlalchemy import Column, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import sqltypes
from starlette.responses import Response

from ..app import Runtime, SessionDep
from ..errors import BadRequest, NotFound, SlateError, validation_errors
from ..events import emit
from ..params import Page, count, flag, json_object, page_envelope, page_of, parse_id
from ..security import CurrentUser
from ..serialization import dumps, json_response
from .hooks import DELETING, CrudContext, CrudHooks

M = TypeVar("M")

RESERVED_QUERY = frozenset({"page", "limit", "relations", "force"})
READONLY_FIELDS = frozenset({"id", "created_at", "updated_at", "type"})


class ValidationFailed(SlateError):
    status_code = 400
    default_message = "Validation error."


def _python_type(column: Column[Any]) -> Any:
    t = column.type
    if isinstance(t, sqltypes.Uuid):
        return uuid.UUID
    if isinstance(t, sqltypes.Boolean):
        return bool
    if isinstance(t, sqltypes.Integer):
        return int
    if isinstance(t, (sqltypes.Float, sqltypes.Numeric)):
        return float
    if isinstance(t, sqltypes.DateTime):
        return dt.datetime
    if isinstance(t, sqltypes.Date):
        return dt.date
    if isinstance(t, sqltypes.JSON):
        return Any
    if isinstance(t, sqltypes.ARRAY):
        return list[Any]
    return str


def _required_on_create(column: Column[Any]) -> bool:
    return (
        not column.nullable
        and column.default is None
        and column.server_default is None
        and not column.primary_key
    )


def _schemas(model: type[Any], writable: list[Column[Any]]) -> tuple[type[BaseModel], type[BaseModel]]:
    cfg = ConfigDict(extra="ignore")
    create_fields: dict[str, Any] = {}
    update_fields: dict[str, Any] = {}
    for col in writable:
        py = _python_type(col)
        optional = py | None
        create_fields[col.key] = (py, ...) if _required_on_create(col) else (optional, None)
        update_fields[col.key] = (optional, None)
    name = model.__name__
    create = create_model(f"{name}Create", __config__=cfg, **create_fields)
    update = create_model(f"{name}Update", __config__=cfg, **update_fields)
    return create, update


def _validation_error(exc: ValidationError) -> ValidationFailed:
    errors = validation_errors(exc.errors())
    missing = any(e["message"] == "Field required" for e in errors)
    message = "A required field is missing." if missing else "Validation error."
    return ValidationFailed(message, data={"errors": errors})


@dataclass
class CrudSpec(Generic[M]):
    model: type[M]
    path: str  # "projects" -> /data/projects
    hooks: CrudHooks[M] = field(default_factory=CrudHooks)
    event_name: str | None = None  # "project"; default from the path, singular
    #: Columns accepted in query-string filters; default every column.
    filterable: frozenset[str] | None = None
    #: Columns never accepted in a body (besides id/created_at/updated_at).
    readonly: frozenset[str] = frozenset()
    #: Columns filtered case-insensitively (Zou: ``name``).
    insensitive: frozenset[str] = frozenset({"name"})
    default_relations_one: bool = False
    #: Hidden columns a body may still set (a person's password on creation); the
    #: hooks must turn them into what is stored (a hash) and they never leave.
    write_only: frozenset[str] = frozenset()
    list_order: tuple[str, ...] = ("created_at",)
    #: Body keys that are not columns but relations the hooks store (a person's
    #: ``departments``): passed to ``update_data`` as given, for the hooks to check.
    relations: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        table = self.model.__table__  # type: ignore[attr-defined]
        self.columns: dict[str, Column[Any]] = {c.key: c for c in table.columns}
        hidden: frozenset[str] = getattr(self.model, "hidden_fields", frozenset())
        self.writable = [
            c for c in table.columns
            if c.key not in READONLY_FIELDS and c.key not in self.readonly
            and (c.key not in hidden or c.key in self.write_only)
        ]
        self.create_schema, self.update_schema = _schemas(self.model, self.writable)
        if self.event_name is None:
            base = self.path[:-1] if self.path.endswith("s") else self.path
            self.event_name = base.replace("_", "-")
        self.id_key = self.event_name.replace("-", "_") + "_id"
        if self.filterable is None:
            self.filterable = frozenset(k for k in self.columns if k not in hidden)


# --- query-string filters ------------------------------------------------------------


def _coerce(column: Column[Any], raw: Any) -> Any:
    py = _python_type(column)
    if raw is None:
        return None
    try:
        if py is uuid.UUID:
            return uuid.UUID(str(raw))
        if py is bool:
            return str(raw).lower() in ("true", "1", "yes")
        if py is int:
            return int(raw)
        if py is float:
            return float(raw)
        if py is dt.datetime:
            return dt.datetime.fromisoformat(str(raw))
        if py is dt.date:
            return dt.date.fromisoformat(str(raw))
    except (ValueError, TypeError) as exc:
        if py is uuid.UUID:
            raise BadRequest("Malformed ID.", data=None) from exc
        raise BadRequest(f"Invalid value for filter {column.key}") from exc
    return raw


def apply_filters(stmt: Any, spec: CrudSpec[Any], params: dict[str, str]) -> Any:
    assert spec.filterable is not None
    for key, raw in params.items():
        if key in RESERVED_QUERY or key not in spec.filterable:
            continue
        column = spec.columns[key]
        attr = getattr(spec.model, key)
        if isinstance(raw, str) and raw.startswith("[") and raw.endswith("]"):
            try:
                values = json.loads(raw)
            except ValueError:
                values = [v.strip().strip("\"'") for v in raw[1:-1].split(",") if v.strip()]
            stmt = stmt.where(attr.in_([_coerce(column, v) for v in values]))
        elif key in spec.insensitive and _python_type(column) is str:
            stmt = stmt.where(func.lower(attr) == raw.lower())
        else:
            stmt = stmt.where(attr == _coerce(column, raw))
    return stmt


# --- the engine ---------------------------------------------------------------------


class CrudService(Generic[M]):
    """The five operations, independent of HTTP (routes are thin wrappers)."""

    def __init__(self, spec: CrudSpec[M]) -> None:
        self.spec = spec
        self.hooks = spec.hooks
        #: :meth:`list_rows`' statements without a filter, by the hooks' key and columns.
        self._row_statements: dict[tuple[Any, ...], Any] = {}
        #: Bodies of plain-row listings, by (key, relations): (the hooks' stamp, body).
        self._bodies: dict[tuple[Any, ...], tuple[str, bytes]] = {}

    def base_query(self, ctx: CrudContext) -> Any:
        return self.hooks.scope(select(self.spec.model), ctx)

    async def get(self, ctx: CrudContext, instance_id: uuid.UUID) -> M:
        stmt = self.base_query(ctx).where(self.spec.model.id == instance_id)  # type: ignore[attr-defined]
        instance = await self.hooks.load(ctx, stmt, instance_id=instance_id)
        if instance is None:
            raise NotFound()
        await self.hooks.check_read(ctx, instance)
        return instance

    async def list(self, ctx: CrudContext, params: dict[str, str]) -> tuple[list[M], tuple[int, Page] | None]:
        """The rows in scope matching ``params``; with ``page``, one page and (total, page)."""
        stmt = apply_filters(self.hooks.list_scope(self.base_query(ctx), ctx), self.spec, params)
        stmt = self.hooks.filter_params(stmt, ctx, params)
        order = [getattr(self.spec.model, c) for c in self.spec.list_order]
        page = page_of(params)
        if page is None:
            return list((await ctx.session.scalars(stmt.order_by(*order))).all()), None
        total = await count(ctx.session, stmt=stmt)
        rows = await ctx.session.scalars(stmt.order_by(*order).offset(page.offset).limit(page.limit))
        return list(rows.all()), (total, page)

    async def list_rows(self, ctx: CrudContext, params: dict[str, str], columns: tuple[Any, ...]) -> Sequence[Any]:
        """:meth:`list` without a page, selecting ``columns`` (plain rows) instead of the
        model's objects: the same scope, filters and order. Without a query parameter
        the statement is built once per :meth:`CrudHooks.listing_key`, when the hooks
        give one."""
        key = None if any(k not in RESERVED_QUERY for k in params) else self.hooks.listing_key(ctx)
        stmt = None if key is None else self._row_statements.get((key, *columns))
        if stmt is None:
            stmt = apply_filters(self.hooks.list_scope(self.hooks.scope(select(*columns), ctx), ctx), self.spec, params)
            stmt = self.hooks.filter_params(stmt, ctx, params)
            stmt = stmt.order_by(*[getattr(self.spec.model, c) for c in self.spec.list_order])
            if key is not None:
                self._row_statements[(key, *columns)] = stmt
        rows: Sequence[Any] = (await ctx.session.execute(stmt)).all()
        return rows

    async def list_rows_body(self, ctx: CrudContext, params: dict[str, str], columns: tuple[Any, ...],
                             *, relations: bool) -> bytes:
        """The JSON body of :meth:`list_rows` serialized by the hooks, answered again while
        the hooks' :meth:`~CrudHooks.listing_stamp` is unchanged (no query parameter but
        ``relations``, and a :meth:`~CrudHooks.listing_key`). The stamp is read before the
        rows, so a body is never kept under a stamp newer than its rows."""
        key = None if any(k != "relations" for k in params) else self.hooks.listing_key(ctx)
        stamp = None if key is None else await self.hooks.listing_stamp(ctx)
        if stamp is not None:
            kept = self._bodies.get((key, relations))
            if kept is not None and kept[0] == stamp:
                return kept[1]
        body = dumps(await self.hooks.serialize_rows(ctx, await self.list_rows(ctx, params, columns), relations=relations))
        if stamp is not None:
            if len(self._bodies) >= 64:  # keys are kinds of callers: a handful
                self._bodies.clear()
            self._bodies[(key, relations)] = (stamp, body)
        return body

    def _validate(self, schema: type[BaseModel], body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        try:
            parsed = schema.model_validate(body)
        except ValidationError as exc:
            raise _validation_error(exc) from exc
        return parsed.model_dump(exclude_unset=partial)

    async def create(self, ctx: CrudContext, body: dict[str, Any]) -> M:
        await self.hooks.check_access(ctx, "create")
        try:
            data = self._validate(self.spec.create_schema, body, partial=True)
        except ValidationFailed as exc:
            raise self.hooks.invalid_creation(exc) from exc
        data.update(self._relations(body))
        await self.hooks.check_create(ctx, data)
        data = await self.hooks.check_creation_integrity(ctx, data)
        data = await self.hooks.update_data(ctx, data, None)
        instance = self.spec.model(**data)
        ctx.session.add(instance)
        await _flush(ctx)
        await self.hooks.post_creation(ctx, instance)
        await self._emit(ctx, "new", instance)
        return instance

    async def update(self, ctx: CrudContext, instance_id: uuid.UUID, body: dict[str, Any]) -> M:
        instance = await self.get(ctx, instance_id)
        data = self._validate(self.spec.update_schema, body, partial=True)
        data.update(self._relations(body))
        await self.hooks.check_update(ctx, instance, data)
        data = await self.hooks.update_data(ctx, data, instance)
        await self.hooks.pre_update(ctx, instance, data)
        before = {key: getattr(instance, key) for key in data if key in self.spec.columns}
        for key, value in data.items():
            setattr(instance, key, value)
        await _flush(ctx)
        await self.hooks.post_update(ctx, instance, data)
        changed = self.hooks.changed_fields(ctx, instance, data, written=_written(instance, data, before))
        await self._emit(ctx, "update", instance, changed=changed)
        return instance

    async def delete(self, ctx: CrudContext, instance_id: uuid.UUID) -> None:
        ctx.scratch[DELETING] = True  # check_read knows the row is read to be deleted
        instance = await self.get(ctx, instance_id)
        await self.hooks.check_delete(ctx, instance)
        await self.hooks.pre_delete(ctx, instance)
        await ctx.session.delete(instance)
        await _flush(ctx)
        await self.hooks.post_delete(ctx, instance)
        await self._emit(ctx, "delete", instance)

    def _relations(self, body: Any) -> dict[str, Any]:
        if not self.spec.relations or not isinstance(body, dict):
            return {}
        return {k: body[k] for k in self.spec.relations if k in body}

    async def _emit(self, ctx: CrudContext, verb: str, instance: M, changed: frozenset[str] | None = None) -> None:
        """Zou's event data (``{"project_id": ...}``) plus a ``snapshot`` of the row, so
        that other services can keep replicas without calling back; ``changed``: the
        snapshot fields an update changed, when its hooks know them."""
        snapshot = await self.hooks.event_snapshot(ctx, instance)
        emit(
            ctx.session,
            name=f"{self.spec.event_name}:{verb}",
            data={self.spec.id_key: str(instance.id), "snapshot": snapshot},  # type: ignore[attr-defined]
            project_id=self.hooks.event_project_id(instance),
            actor_id=ctx.principal.id,
            changed=changed,
        )


def _written(instance: Any, data: dict[str, Any], before: dict[str, Any]) -> frozenset[str]:
    """The keys of an update's ``data`` that changed the row: a column whose value differs
    from the one before, any value that may have been changed in place (a dict, a list),
    and every key that is not a column (a relation the hooks stored)."""
    return frozenset(
        key for key in data
        if key not in before or isinstance(before[key], (dict, list)) or getattr(instance, key) != before[key]
    )


async def _flush(ctx: CrudContext) -> None:
    """Flush now so integrity errors become Zou's 400 inside the request. No savepoint
    around it (two round trips per write): after an integrity error the request fails
    and its whole transaction is rolled back (``slate_common.app._session``)."""
    try:
        await ctx.session.flush()
    except IntegrityError as exc:
        code = getattr(exc.orig, "sqlstate", None) or getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None)
        if code == "23505":
            raise BadRequest("A record with the same unique values already exists.") from exc
        if code == "23502":
            raise BadRequest("A required field is missing.") from exc
        if code == "23503":
            raise BadRequest("A referenced record does not exist.") from exc
        raise BadRequest("Integrity error.") from exc


async def _context(session: SessionDep, principal: CurrentUser, runtime: Runtime) -> CrudContext:
    return CrudContext(session=session, principal=principal, runtime=runtime)


Ctx = Annotated[CrudContext, Depends(_context)]


def crud_router(specs: list[CrudSpec[Any]], *, prefix: str = "/data", tags: list[str] | None = None) -> APIRouter:
    """One router serving Zou's five CRUD routes for every spec."""
    router = APIRouter(prefix=prefix, tags=[*(tags or ["Crud"])])
    for spec in specs:
        _add_routes(router, spec)
    return router


def _add_routes(router: APIRouter, spec: CrudSpec[Any]) -> None:
    service: CrudService[Any] = CrudService(spec)
    name = spec.path.replace("-", "_")
    body_schema = {"requestBody": {"content": {"application/json": {"schema": spec.create_schema.model_json_schema()}}}}
    update_schema = {"requestBody": {"content": {"application/json": {"schema": spec.update_schema.model_json_schema()}}}}

    async def list_all(request: Request, ctx: Ctx) -> Response:
        params = dict(request.query_params)
        relations = flag(params.get("relations"))
        columns = None if "page" in params else spec.hooks.listed_columns(ctx, relations=relations)
        if columns is not None:
            return Response(await service.list_rows_body(ctx, params, columns, relations=relations),
                            media_type="application/json")
        rows, paged = await service.list(ctx, params)
        data = await spec.hooks.serialize_many(ctx, rows, relations=relations)
        if paged is None:
            return json_response(data)
        return json_response(page_envelope(data, *paged))

    async def create(request: Request, ctx: Ctx) -> Response:
        instance = await service.create(ctx, await json_object(request))
        return json_response(await spec.hooks.serialize(ctx, instance, relations=True), status_code=201)

    async def get_one(instance_id: str, request: Request, ctx: Ctx) -> Response:
        wanted = parse_id(instance_id)
        relations = flag(request.query_params.get("relations"), spec.default_relations_one)
        answer = await spec.hooks.read_one(ctx, wanted, relations=relations)
        if answer is not None:
            return json_response(answer)
        instance = await service.get(ctx, wanted)
        return json_response(await spec.hooks.serialize_one(ctx, instance, relations=relations))

    async def update(instance_id: str, request: Request, ctx: Ctx) -> Response:
        instance = await service.update(ctx, parse_id(instance_id), await json_object(request))
        return json_response(await spec.hooks.serialize(ctx, instance, relations=False))

    async def delete(instance_id: str, request: Request, ctx: Ctx) -> Response:
        ctx.scratch["force"] = flag(request.query_params.get("force"))  # Zou's ?force=true
        await spec.hooks.check_access(ctx, "delete")
        await service.delete(ctx, parse_id(instance_id))
        return Response(status_code=204)

    base = f"/{spec.path}"
    router.add_api_route(base, list_all, methods=["GET"], operation_id=f"list_{name}", summary=f"List {spec.path}")
    router.add_api_route(base, create, methods=["POST"], operation_id=f"create_{name}", summary=f"Create a {spec.event_name}",
                         openapi_extra=body_schema, status_code=201)
    item = base + "/{instance_id}"
    router.add_api_route(item, get_one, methods=["GET"], operation_id=f"get_{name}", summary=f"Get a {spec.event_name}")
    router.add_api_route(item, update, methods=["PUT"], operation_id=f"update_{name}", summary=f"Update a {spec.event_name}",
                         openapi_extra=update_schema)
    router.add_api_route(item, delete, methods=["DELETE"], operation_id=f"delete_{name}", summary=f"Delete a {spec.event_name}",
                         status_code=204)
