"""The caller's saved search filters and filter groups."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.params import FilterGroupId, FilterId, JsonObject
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import search_filters as rules

router = APIRouter(tags=["Search filters"])


@router.get("/data/user/filters", operation_id="get_user_filters")
async def list_filters(principal: CurrentUser, session: SessionDep) -> Response:
    """The caller's filters (and shared ones), by list type and project."""
    return json_response(await rules.list_filters(session, principal))


@router.post("/data/user/filters", operation_id="create_user_filter", status_code=201)
async def create_filter(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Save a search filter."""
    return json_response((await rules.create_filter(session, principal=principal, body=body)).serialize(),
                         status_code=201)


@router.put("/data/user/filters/{filter_id}", operation_id="update_user_filter")
async def update_filter(filter_id: FilterId, body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Change one of the caller's filters."""
    row = await rules.update_filter(session, principal=principal, filter_id=filter_id, body=body)
    return json_response(row.serialize())


@router.delete("/data/user/filters/{filter_id}", operation_id="delete_user_filter", status_code=204)
async def delete_filter(filter_id: FilterId, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete one of the caller's filters."""
    await rules.delete_filter(session, principal=principal, filter_id=filter_id)
    return Response(status_code=204)


@router.get("/data/user/filter-groups", operation_id="get_user_filter_groups")
async def list_groups(principal: CurrentUser, session: SessionDep) -> Response:
    """The caller's filter groups (and shared ones), by list type and project."""
    return json_response(await rules.list_groups(session, principal))


@router.post("/data/user/filter-groups", operation_id="create_user_filter_group", status_code=201)
async def create_group(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Create a filter group."""
    return json_response((await rules.create_group(session, principal=principal, body=body)).serialize(),
                         status_code=201)


@router.get("/data/user/filter-groups/{filter_group_id}", operation_id="get_user_filter_group")
async def get_group(filter_group_id: FilterGroupId, principal: CurrentUser, session: SessionDep) -> Response:
    """One of the caller's filter groups."""
    return json_response((await rules.get_group(session, principal, filter_group_id)).serialize())


@router.put("/data/user/filter-groups/{filter_group_id}", operation_id="update_user_filter_group")
async def update_group(filter_group_id: FilterGroupId, body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Change one of the caller's filter groups."""
    row = await rules.update_group(session, principal=principal, group_id=filter_group_id, body=body)
    return json_response(row.serialize())


@router.delete("/data/user/filter-groups/{filter_group_id}", operation_id="delete_user_filter_group", status_code=204)
async def delete_group(filter_group_id: FilterGroupId, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete one of the caller's filter groups."""
    await rules.delete_group(session, principal=principal, group_id=filter_group_id)
    return Response(status_code=204)
