"""JSON written by PostgreSQL in Zou's shapes, for the heavy listings.

Building each row's JSON in the query (``json_build_object``, which keeps key order)
spares Python the ORM rows and dicts: the service only joins the texts. Values are
formatted as Zou's serialization writes them: timestamps to the second without zone,
floats with their ``.0``, UUIDs as strings, free ``data`` as stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, DateTime, Float, Numeric, Text, and_, case, cast, func, literal_column

#: ``json_build_object`` takes at most 100 arguments: 50 pairs per call.
MAX_PAIRS = 50


def ts(col: str) -> str:
    """Zou's timestamps: ISO 8601 to the second, no zone (JSON's own timestamp format,
    a third cheaper than ``to_char``)."""
    return f"to_json(date_trunc('second', {col}))"


def float_(col: str) -> str:
    """Floats as Python writes them (2.0, not 2); zero, by far the most common value of
    a task's duration and estimation, without any arithmetic."""
    return (f"CASE WHEN {col} = 0 THEN '0.0'::json WHEN {col} = trunc({col}) AND abs({col}) < 1e15 "
            f"THEN to_json({col}::numeric(30,1)) ELSE to_json({col}) END")


def column_json(col: Column) -> str:  # type: ignore[type-arg]
    """The SQL of a model column's JSON value, over its table's name."""
    ref = f"{col.table.name}.{col.name}"
    if isinstance(col.type, DateTime):
        return ts(ref)
    if isinstance(col.type, Float):
        return float_(ref)
    return ref


def json_object(pairs: Sequence[tuple[str, str]]) -> str:
    """A JSON object (as text) of ``(key, sql)`` pairs, in their order, whatever their number."""
    parts = ["json_build_object(" + ", ".join(f"'{k}', {v}" for k, v in pairs[i:i + MAX_PAIRS]) + ")::text"
             for i in range(0, len(pairs), MAX_PAIRS)]
    if len(parts) == 1:
        return parts[0]
    # glue the objects' texts: drop the inner braces (each part has at least one pair)
    inner = [f"left(substr({p}, 2), -1)" for p in parts]
    return "'{' || " + " || ', ' || ".join(inner) + " || '}'"


def column_expr(col: Any) -> Any:
    """A mapped column's JSON value as a SQL expression (for :func:`object_expr`), over
    whatever alias ``col`` belongs to, written as :func:`column_json` writes it."""
    if isinstance(col.type, DateTime):
        return func.to_json(func.date_trunc("second", col))
    if isinstance(col.type, Float):
        return case((col == 0, literal_column("'0.0'::json")),
                    (and_(col == func.trunc(col), func.abs(col) < 1e15), func.to_json(cast(col, Numeric(30, 1)))),
                    else_=func.to_json(col))
    return col


def object_expr(pairs: Sequence[tuple[str, Any]]) -> Any:
    """``json_build_object`` of ``(key, expression)`` pairs, keys inlined (at most
    :data:`MAX_PAIRS`), as text."""
    assert len(pairs) <= MAX_PAIRS
    args: list[Any] = []
    for key, value in pairs:
        assert "'" not in key
        args += [literal_column(f"'{key}'"), value]
    return cast(func.json_build_object(*args), Text)
