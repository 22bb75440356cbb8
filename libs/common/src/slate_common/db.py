"""Async SQLAlchemy 2 per service: one PostgreSQL database per service, a session per
request or per message, Alembic migrations applied by ``migrate``.

Each service declares its own declarative ``Base`` with its own MetaData (in its
``models/base.py``, using :data:`NAMING`), so services' tables never share a MetaData even when one process
(a test run) imports several services. The outbox and inbox live in
:data:`EVENTS_METADATA`, which every service's migrations include.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sqlalchemy import DateTime, MetaData, event, exc, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from .serialization import now, serialize_value
from .tracing import instrument_engine, statement_span

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class EventsBase(DeclarativeBase):
    """The outbox and inbox tables, present in every service's database."""

    metadata = MetaData(naming_convention=NAMING)


EVENTS_METADATA = EventsBase.metadata


#: Columns of Slate's own bookkeeping that Zou's answers never carry: a replica row's
#: ``source_version`` (slate_common.replica).
BOOKKEEPING_FIELDS = frozenset({"source_version"})


class ZouModel:
    """Columns every Zou model has, and its serialization."""

    #: Zou's ``type`` value, defaults to the class name.
    zou_type: ClassVar[str | None] = None
    #: Columns never serialized (secrets).
    hidden_fields: ClassVar[frozenset[str]] = frozenset()

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, onupdate=now, nullable=False)

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        cls = type(self)
        keys = _SERIALIZED_KEYS.get((cls, exclude))
        if keys is None:
            skip = self.hidden_fields | exclude | BOOKKEEPING_FIELDS
            keys = _SERIALIZED_KEYS[(cls, exclude)] = tuple(
                col.key for col in self.__table__.columns if col.key not in skip)  # type: ignore[attr-defined]
        # Loaded values are in the instance's __dict__ (read there: an attribute access
        # through the ORM's descriptor costs more than the rest of a column's work);
        # anything else goes through the descriptor as before.
        loaded = self.__dict__
        out: dict[str, Any] = {}
        for key in keys:
            value = loaded[key] if key in loaded else getattr(self, key)
            out[key] = value if type(value) in _PLAIN else serialize_value(value)
        out["type"] = self.zou_type or cls.__name__
        return out


#: The columns each model serializes, per set of excluded names.
_SERIALIZED_KEYS: dict[tuple[type, frozenset[str]], tuple[str, ...]] = {}
#: Values serialized as they are.
_PLAIN = frozenset((str, int, float, bool, type(None), dict, list))


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False,
                plan_cache_mode: str = "auto") -> AsyncEngine:
    """The service's engine. ``plan_cache_mode`` is PostgreSQL's for the connections'
    prepared statements: ``force_generic_plan`` plans each once per connection instead of
    whenever the server finds a custom plan cheaper to run (for the listings' large
    statements, planning again cost more than running them: session 11)."""
    connect_args = {} if plan_cache_mode == "auto" else {"server_settings": {"plan_cache_mode": plan_cache_mode}}
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, echo=echo,
                                 connect_args=connect_args)
    _discard_dead_connections(engine)
    _begin_at_first_write(engine)
    instrument_engine(engine)
    return engine


# --- reads without BEGIN and COMMIT -----------------------------------------------------

#: Set on a pooled connection's info while its session sends plain reads without a
#: transaction (:func:`begin_at_first_write`).
_READS_WITHOUT_BEGIN = "slate_reads_without_begin"
#: What a statement that may run outside a transaction starts with, and what it must not
#: contain: a plain SELECT, without row locks or functions whose effect lasts until the
#: transaction's end (advisory xact locks, set_config, sequences).
_PLAIN_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_NEEDS_TRANSACTION = re.compile(
    r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY\s+SHARE)\b|pg_advisory|set_config|nextval|setval|txid|pg_current_xact"
    r"|lo_|\bINTO\b",
    re.IGNORECASE,
)


#: The asyncpg adapter's isolation level when it is PostgreSQL's default, READ COMMITTED:
#: never set (None), or set back after a connection ran at another level.
_READ_COMMITTED = (None, "read_committed")


async def begin_at_first_write(session: AsyncSession) -> None:
    """Send the session's plain reads without BEGIN and COMMIT; BEGIN goes out before its
    first other statement (an INSERT, UPDATE or DELETE, a flush, a SAVEPOINT, a row lock,
    any raw SQL), and from there on the session is one transaction as usual.

    A read-only request then costs its queries alone, not two more round trips to the
    database. Under PostgreSQL's READ COMMITTED (the default, used throughout) every
    statement sees what was committed before it started, inside a transaction or not, so
    the reads see exactly what they saw before; what a transaction adds to reads (locks
    until its end, a snapshot over several statements at REPEATABLE READ) is taken by the
    statements that turn the transaction on. Used for GET and HEAD requests (SessionDep)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if getattr(adapted, "isolation_level", "") in _READ_COMMITTED and getattr(adapted, "_transaction", None) is None:
        adapted.isolation_level = "autocommit"  # the adapter's own switch: no BEGIN
        connection.info[_READS_WITHOUT_BEGIN] = True


#: Statement text -> whether it is a plain read. The texts are the compiled statements of
#: SQLAlchemy's cache, so a process sees a few hundred of them; scanning a long SELECT with
#: ``_NEEDS_TRANSACTION`` cost 0.3-0.4 ms per request (a third of /auth/authenticated's CPU
#: in process, session 10), a lookup costs nothing. Emptied when it grows past its bound.
_plain_reads: dict[str, bool] = {}
_PLAIN_READS_BOUND = 4096


def _is_plain_read(statement: str) -> bool:
    known = _plain_reads.get(statement)
    if known is None:
        known = bool(_PLAIN_READ.match(statement)) and not _NEEDS_TRANSACTION.search(statement)
        if len(_plain_reads) >= _PLAIN_READS_BOUND:
            _plain_reads.clear()
        _plain_reads[statement] = known
    return known


ModelT = TypeVar("ModelT")


def detached(cls: type[ModelT], columns: Sequence[Any], values: Sequence[Any]) -> ModelT:
    """An object of the mapped class ``cls`` holding a row's values (``columns``' keys) as
    loaded ones, outside any session: what a plain row read (:class:`CompiledRead`) gives
    to code written for the ORM's objects, to read (``serialize``, attributes)."""
    obj = cls._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    for column, value in zip(columns, values, strict=True):
        set_committed_value(obj, column.key, value)
    return obj  # type: ignore[no-any-return]


_REQUIRED = object()


class CompiledRead:
    """A plain SELECT built once, compiled once for PostgreSQL, and run by asyncpg itself
    on the session's connection: no ORM compile state, no cache key walked over the whole
    statement, no cursor adapter per execution. For a statement of the comment listing's
    size that was 0.65-0.9 ms of CPU per execution through ``session.execute`` and 0.2-0.3
    through the Core connection (session 10, paired). The rows are asyncpg records (index
    and key access, tuple unpacking; values as ``session.execute`` gives them: asyncpg
    decodes, SQLAlchemy's dialect adds the JSON codecs); parameters are passed by name.

    Meant for the reads requests run most often, whose statement depends on nothing but
    its parameters. A read that fails here (a lost connection, a bad value) runs again
    through ``session.execute``, which raises what the error handlers expect; inside a
    write's transaction that second run reports the aborted transaction instead."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._sql: str | None = None
        #: Per positional parameter: its key, its value when the statement holds one (else
        #: _REQUIRED: the call must pass it) and the type's bind processor.
        self._order: list[tuple[str, Any, Callable[[Any], Any] | None]] = []

    def _compile(self, dialect: Any) -> str:
        compiled = self.statement.compile(dialect=dialect)
        sql = str(compiled)
        if not _is_plain_read(sql):
            raise ValueError("CompiledRead runs plain SELECTs only")
        if any(b.expanding for b in compiled.binds.values()):
            raise ValueError("CompiledRead takes no expanding IN parameter: use = ANY(:array)")
        processors = compiled._bind_processors
        order = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            value = _REQUIRED if bind.required else bind.effective_value
            order.append((bind.key, value, processors.get(name)))
        self._order = order
        self._sql = sql
        return sql

    async def all(self, session: AsyncSession, **params: Any) -> list[Any]:
        if session.sync_session.new or session.sync_session.deleted or session.sync_session.dirty:
            await session.flush()  # what session.execute's autoflush would send first
        connection = await session.connection()
        sql = self._sql or self._compile(connection.dialect)
        args = []
        for key, default, process in self._order:
            value = params.get(key, default)  # a value passed by name wins over the statement's
            if value is _REQUIRED:
                raise KeyError(f"CompiledRead: no value for the parameter {key!r}")
            args.append(value if process is None else process(value))
        driver = (await connection.get_raw_connection()).driver_connection
        span = statement_span(sql)
        try:
            return list(await driver.fetch(sql, *args))  # type: ignore[union-attr]
        except Exception as exc:
            if span is not None:
                span.record_exception(exc)
            return list((await session.execute(self.statement, params)).all())
        finally:
            if span is not None:
                span.end()

    async def first(self, session: AsyncSession, **params: Any) -> Any:
        rows = await self.all(session, **params)
        return rows[0] if rows else None


def _begin_at_first_write(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _begin_unless_plain_read(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
                                 executemany: bool) -> None:
        if conn.info.get(_READS_WITHOUT_BEGIN) and not _is_plain_read(statement):
            _restore(conn.info, conn.connection.dbapi_connection)  # BEGIN is sent with this statement

    @event.listens_for(sync_engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            _restore(record.info, dbapi_connection)


def _restore(info: dict[str, Any], adapted: Any) -> None:
    if info.pop(_READS_WITHOUT_BEGIN, False):
        adapted.isolation_level = adapted._isolation_setting


def _discard_dead_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server closed (a restart, a failover, an idle timeout) is
    replaced at checkout, without a round trip: asyncpg learns of the closed socket as
    soon as it happens. SQLAlchemy's ``pool_pre_ping`` would instead run BEGIN, a ping and
    ROLLBACK before every request: three round trips for a one-query read."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        raw = getattr(dbapi_connection, "driver_connection", None)
        if raw is not None and raw.is_closed():
            raise exc.DisconnectionError("connection closed by the server")


def make_sessionmaker(engine: AsyncEngine, sync_session_class: type[Session] = Session, *,
                      service: str | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; with ``service``, the events they emit are that service's
    (``session.info["slate_service"]``, read by ``events.outbox.emit``), whatever other
    service runs in the same process (the tests run several)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=sync_session_class,
                              info={"slate_service": service} if service else None)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on error. The only place that commits."""
    async with factory() as session:
        async with session.begin():
            yield session


async def ensure_database(url: str) -> bool:
    """Create the service's database if the server does not have it yet. True if created."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("select 1 from pg_database where datname = :n"), {"n": target.database}
            )
            if not exists:
                await conn.execute(text(f'create database "{target.database}"'))
                return True
            return False
    finally:
        await admin.dispose()


def _alembic_config(url: str, migrations_dir: Path) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s")
    return cfg


#: The lines Alembic's autogenerate writes around the operations it rendered.
TEMPLATE_COMMENT = re.compile(r"^\s*# ### .* ###\s*$")


def make_revision(url: str, migrations_dir: Path, message: str) -> None:
    """Autogenerate a migration (development), named by date and slug."""
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(url, migrations_dir)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    rev_id = f"{int(head or 0) + 1:04d}" if (head or "0").isdigit() else None
    written = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    for script in written if isinstance(written, list) else [written]:
        if script is not None:  # without Alembic's "### commands auto generated ###" comments
            path = Path(script.path)
            lines = path.read_text().splitlines()
            path.write_text("".join(f"{line}\n" for line in lines if not TEMPLATE_COMMENT.match(line)))


def run_migrations(url: str, migrations_dir: Path) -> None:
    """Apply a service's Alembic migrations up to head (synchronous; run from the CLI)."""
    from alembic import command

    command.upgrade(_alembic_config(url, migrations_dir), "head")


def migration_lock_key(database: str) -> int:
    """The advisory lock key of one database's migrations (a signed 64-bit int, stable
    across processes and versions, unlike ``hashtext``)."""
    digest = hashlib.blake2b(f"slate-migrate:{database}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def migrate_locked(url: str, migrations_dir: Path, *, on_wait: Callable[[], None] | None = None) -> bool:
    """Create the database if missing and apply its migrations under a PostgreSQL advisory
    lock, so replicas starting together (``slate migrate`` as an initContainer of every
    pod) migrate one at a time: the first applies, the others wait, then find the head
    applied. The lock is taken on the server's ``postgres`` database (the service's own
    may not exist yet) and dies with the connection if the process does. True if the
    database was created."""
    from sqlalchemy import pool
    from sqlalchemy.engine import make_url

    target = make_url(url)
    key = migration_lock_key(target.database or "")
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        async with admin.connect() as conn:
            if not await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
                if on_wait is not None:
                    on_wait()
                await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                created = await ensure_database(url)
                # Alembic's env runs its own event loop: give it a thread of its own.
                await asyncio.to_thread(run_migrations, url, migrations_dir)
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            return created
    finally:
        await admin.dispose()
