"""What request body models share: field types bounded as the columns they fill, and the
OpenAPI of a body a route reads itself.

Most routes declare their body as a pydantic model parameter: FastAPI validates it and
documents it. A few must read it themselves, because Zou checks the caller's rights
before it looks at the body, or answers a bad body with messages of its own (casting
lists): :func:`documented_body` gives such a route the OpenAPI of its model all the same
(``openapi_extra``), so a client generated from the document, or a schema-driven test,
sends what the route reads.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

#: An integer an ``Integer`` column takes (a larger one is refused with the 400 of a bad
#: field, not left to the database).
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
#: An entity's name: not blank, at most its column's 160 characters.
EntityName = Annotated[str, Field(min_length=1, max_length=160, pattern=r"\S")]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def body_schema(annotation: Any) -> dict[str, Any]:
    """The JSON schema of ``annotation`` (a model, ``list[Model]``...), definitions inlined."""
    schema = TypeAdapter(annotation).json_schema()
    defs = schema.pop("$defs", {})
    return _inline(schema, defs)  # type: ignore[no-any-return]


def documented_body(annotation: Any, *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body of type ``annotation``."""
    return {"requestBody": {"required": required,
                            "content": {"application/json": {"schema": body_schema(annotation)}}}}
