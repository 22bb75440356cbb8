"""The caller's saved search filters and filter groups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.params import Body, FilterGroupId, FilterId, JsonObject, OptionalId, documented_body, validate
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import search_filters as rules

router = APIRouter(tags=["Search filters"])


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def _required_text(value: Any) -> Any:
    if value is None or value == "":
        raise PydanticCustomError("missing", "Field required")
    return _text(value)


def _flag(value: Any) -> Any:
    return value if value is None or isinstance(value, bool) else str(value).lower() in ("true", "1")


# Text as the filters keep it (any value is stored as its text), as long as its column
# allows; required: not null, not "".
Text80 = Annotated[Annotated[str, Field(max_length=80)] | None, BeforeValidator(_text)]
Text200 = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_text)]
Text500 = Annotated[Annotated[str, Field(max_length=500)] | None, BeforeValidator(_text)]
Text8 = Annotated[Annotated[str, Field(max_length=8)] | None, BeforeValidator(_text)]
Required8 = Annotated[str, BeforeValidator(_required_text), Field(min_length=1, max_length=8)]
Required80 = Annotated[str, BeforeValidator(_required_text), Field(min_length=1, max_length=80)]
Required200 = Annotated[str, BeforeValidator(_required_text), Field(min_length=1, max_length=200)]
Required500 = Annotated[str, BeforeValidator(_required_text), Field(min_length=1, max_length=500)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]


class _Query(Body):
    @model_validator(mode="before")
    @classmethod
    def _search_query(cls, data: Any) -> Any:
        """``search_query`` is the column's name for ``query``: either is read."""
        if isinstance(data, dict) and "query" not in data and "search_query" in data:
            return {**data, "query": data["search_query"]}
        return data


class FilterIn(_Query):
    name: Required200
    query: Required500
    list_type: Required80
    entity_type: Text80 = None
    is_shared: Flag = None
    project_id: OptionalId = None
    department_id: OptionalId = None
    search_filter_group_id: OptionalId = None


class FilterEdit(_Query):
    name: Text200 = None
    query: Text500 = None
    list_type: Text80 = None
    entity_type: Text80 = None
    is_shared: Flag = None
    project_id: OptionalId = None
    department_id: OptionalId = None
    search_filter_group_id: OptionalId = None


class GroupIn(Body):
    name: Required200
    color: Required8
    list_type: Required80
    entity_type: Text80 = None
    is_shared: Flag = None
    project_id: OptionalId = None
    department_id: OptionalId = None


class GroupEdit(Body):
    name: Text200 = None
    color: Text8 = None
    list_type: Text80 = None
    entity_type: Text80 = None
    is_shared: Flag = None
    project_id: OptionalId = None
    department_id: OptionalId = None


@router.get("/data/user/filters", operation_id="get_user_filters")
async def list_filters(principal: CurrentUser, session: SessionDep) -> Response:
    """The caller's filters (and shared ones), by list type and project."""
    return json_response(await rules.list_filters(session, principal=principal))


@router.post("/data/user/filters", operation_id="create_user_filter", status_code=201,
             openapi_extra=documented_body(FilterIn))
async def create_filter(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Save a search filter."""
    fields = validate(FilterIn, body).model_dump(exclude_unset=True)
    return json_response((await rules.create_filter(session, principal=principal, body=fields)).serialize(),
                         status_code=201)


@router.put("/data/user/filters/{filter_id}", operation_id="update_user_filter", openapi_extra=documented_body(FilterEdit))
async def update_filter(filter_id: FilterId, body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Change one of the caller's filters."""
    fields = validate(FilterEdit, body).model_dump(exclude_unset=True)
    row = await rules.update_filter(session, principal=principal, filter_id=filter_id, body=fields)
    return json_response(row.serialize())


@router.delete("/data/user/filters/{filter_id}", operation_id="delete_user_filter", status_code=204)
async def delete_filter(filter_id: FilterId, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete one of the caller's filters."""
    await rules.delete_filter(session, principal=principal, filter_id=filter_id)
    return Response(status_code=204)


@router.get("/data/user/filter-groups", operation_id="get_user_filter_groups")
async def list_groups(principal: CurrentUser, session: SessionDep) -> Response:
    """The caller's filter groups (and shared ones), by list type and project."""
    return json_response(await rules.list_groups(session, principal=principal))


@router.post("/data/user/filter-groups", operation_id="create_user_filter_group", status_code=201,
             openapi_extra=documented_body(GroupIn))
async def create_group(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Create a filter group."""
    fields = validate(GroupIn, body).model_dump(exclude_unset=True)
    return json_response((await rules.create_group(session, principal=principal, body=fields)).serialize(),
                         status_code=201)


@router.get("/data/user/filter-groups/{filter_group_id}", operation_id="get_user_filter_group")
async def get_group(filter_group_id: FilterGroupId, principal: CurrentUser, session: SessionDep) -> Response:
    """One of the caller's filter groups."""
    return json_response((await rules.get_group(session, principal=principal, group_id=filter_group_id)).serialize())


@router.put("/data/user/filter-groups/{filter_group_id}", operation_id="update_user_filter_group",
            openapi_extra=documented_body(GroupEdit))
async def update_group(filter_group_id: FilterGroupId, body: JsonObject, principal: CurrentUser,
                       session: SessionDep) -> Response:
    """Change one of the caller's filter groups."""
    fields = validate(GroupEdit, body).model_dump(exclude_unset=True)
    row = await rules.update_group(session, principal=principal, group_id=filter_group_id, body=fields)
    return json_response(row.serialize())


@router.delete("/data/user/filter-groups/{filter_group_id}", operation_id="delete_user_filter_group", status_code=204)
async def delete_group(filter_group_id: FilterGroupId, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete one of the caller's filter groups."""
    await rules.delete_group(session, principal=principal, group_id=filter_group_id)
    return Response(status_code=204)
