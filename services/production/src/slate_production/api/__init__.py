"""Production's routes, one module per Zou route family."""

from starlette.responses import Response


def json_bytes(body: bytes) -> Response:
    """A 200 whose JSON body is already written (by PostgreSQL, or from a cache)."""
    return Response(body, media_type="application/json")
