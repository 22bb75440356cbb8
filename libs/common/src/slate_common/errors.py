"""Typed errors rendered in Zou's body shape: ``{"error": true, "message": "..."}``.

Database errors become sanitized 400s (no SQL, no bound values), except a database that
is not reachable (restarting, failing over, the network): a 503, as for any dependency
that is down, so clients know to try again. Anything unexpected is logged with its
traceback and answered with a bare 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg.exceptions as pg
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from .logging import get_logger
from .serialization import json_response

if TYPE_CHECKING:  # FastAPI only where handlers are installed: a worker imports these errors too
    from fastapi import FastAPI

log = get_logger(__name__)


class SlateError(Exception):
    status_code = 400
    default_message = "Bad request"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": True, "message": self.message, **self.extra}


class BadRequest(SlateError):
    status_code = 400


class InvalidFormat(BadRequest):
    """A value the database could not take (a malformed id in a list...), in Zou's shape
    for it: ``{"message": ...}`` alone."""

    default_message = "One of the provided values has an invalid format."

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


class WrongParameter(BadRequest):
    default_message = "Wrong parameter"


class Unauthorized(SlateError):
    """Token problems, in the shape Zou's JWT layer uses: ``{"msg": "..."}``."""

    status_code = 401
    default_message = "Unauthorized"

    def body(self) -> dict[str, Any]:
        return {"msg": self.message, **self.extra}


class InvalidToken(Unauthorized):
    """A token that cannot be decoded or verified (Zou answers 422 for these)."""

    status_code = 422
    default_message = "Invalid token"


class Forbidden(SlateError):
    status_code = 403
    default_message = "You are not allowed to perform this action."


NOT_FOUND_MESSAGE = (
    "404 Not Found: The requested URL was not found on the server. "
    "If you entered the URL manually please check your spelling and try again."
)


class NotFound(SlateError):
    status_code = 404
    default_message = NOT_FOUND_MESSAGE


class PayloadTooLarge(SlateError):
    status_code = 413
    default_message = "Payload too large"


class ServiceUnavailable(SlateError):
    status_code = 503
    default_message = "Service unavailable"


def error_response(status: int, message: str, **extra: Any) -> Response:
    return json_response({"error": True, "message": message, **extra}, status_code=status)


def validation_errors(errors: Sequence[Any], *, located: bool = True) -> list[dict[str, str]]:
    """Zou's ``{"field", "message"}`` list of pydantic's errors. ``located``: FastAPI's
    errors, whose location starts with where the value was (``body``, ``query``,
    ``path``); a model's own errors start with the field (which may be named ``query``)."""
    out = []
    for err in errors:
        parts = list(err.get("loc", ()))
        if located and parts and parts[0] in ("body", "query", "path"):
            parts = parts[1:]
        loc = ".".join(str(p) for p in parts)
        msg = "Field required" if err.get("type") == "missing" else str(err.get("msg"))
        out.append({"field": loc, "message": msg})
    return out


#: What asyncpg raises when the server went away or cannot take connections now.
_DISCONNECTED = (
    ConnectionError,  # refused, reset: the server is not listening (restarting)
    pg.PostgresConnectionError,  # the connection is gone (ConnectionDoesNotExistError...)
    pg.CannotConnectNowError, pg.AdminShutdownError, pg.CrashShutdownError,  # starting, stopping, recovering
    pg.InternalClientError,  # the protocol broke off mid-statement
)


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the database is not reachable, rather than
    that the statement was wrong."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if getattr(cur, "connection_invalidated", False) or isinstance(cur, _DISCONNECTED):
            return True
        if isinstance(cur, pg.InterfaceError) and "connection" in str(cur):  # "connection is closed"
            return True
        cur = getattr(cur, "orig", None) or cur.__cause__ or cur.__context__
    return False


DATABASE_UNAVAILABLE = "The database is unavailable, please try again."
INVALID_TEXT = "Invalid value for a field: text that is not valid Unicode."
DEPENDENCY_UNAVAILABLE = "A service this request needs is unavailable, please try again."


#: PostgreSQL's deadlock and serialization failures: two transactions in each other's
#: way, one rolled back; the request may be sent again as it was.
_CONFLICTS = frozenset(("40P01", "40001"))
TRANSACTION_CONFLICT = "The change met a concurrent one and was not made, please try again."


def _sqlstate(exc: BaseException) -> str | None:
    cur: BaseException | None = exc
    for _ in range(8):
        if cur is None:
            return None
        code = getattr(cur, "sqlstate", None)
        if isinstance(code, str):
            return code
        cur = getattr(cur, "orig", None) or cur.__cause__ or cur.__context__
    return None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is in ``exc``'s chain (the driver's error under SQLAlchemy's)."""
    cur: BaseException | None = exc
    for _ in range(8):
        if cur is None:
            return False
        if isinstance(cur, kind):
            return True
        cur = getattr(cur, "orig", None) or cur.__cause__ or cur.__context__
    return False


def install_error_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(SlateError)
    async def _slate(_: Request, exc: SlateError) -> Response:
        return json_response(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        return error_response(400, "Validation error.", data={"errors": validation_errors(exc.errors())})

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> Response:
        log.info("integrity_error", error=str(exc.orig).splitlines()[0] if exc.orig else "")
        return error_response(400, "Integrity error: the change conflicts with existing data")

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> Response:
        return error_response(400, "Invalid value for a field")

    @app.exception_handler(StatementError)
    async def _statement(_: Request, exc: StatementError) -> Response:
        if database_unreachable(exc):
            log.warning("database_unreachable", error=type(exc.orig).__name__ if exc.orig else "")
            return error_response(503, DATABASE_UNAVAILABLE)
        if _caused_by(exc, UnicodeError):  # JSON may carry a lone surrogate ("\\udbfb"): no UTF-8 for it
            return error_response(400, INVALID_TEXT)
        if _sqlstate(exc) in _CONFLICTS:  # not the request's fault: the same call again succeeds
            log.warning("transaction_conflict", sqlstate=_sqlstate(exc))
            return error_response(503, TRANSACTION_CONFLICT)
        log.warning("statement_error", error=type(exc.orig).__name__ if exc.orig else "")
        return error_response(400, "Statement error")

    @app.exception_handler(ConnectionError)
    async def _connection(_: Request, exc: ConnectionError) -> Response:
        # opening a connection raises the socket's error itself (not a StatementError)
        log.warning("dependency_unreachable", error=repr(exc))
        return error_response(503, DEPENDENCY_UNAVAILABLE)

    async def _database(_: Request, exc: Exception) -> Response:
        log.warning("database_unreachable", error=repr(exc))
        return error_response(503, DATABASE_UNAVAILABLE)

    for kind in (pg.PostgresConnectionError, pg.CannotConnectNowError, pg.InternalClientError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(404, NOT_FOUND_MESSAGE)
        if exc.status_code == 405:
            return error_response(405, "The method is not allowed for the requested URL.")
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path, method=request.method)
        return error_response(500, "Internal server error")
