"""The news feed routes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.params import EntityId, NewsId, ProjectId
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access
from ..domain.news import list_news, news_of_entity

router = APIRouter(tags=["News"])


@router.get("/data/projects/news", operation_id="get_open_projects_news")
async def open_projects_news(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """News of the caller's open projects, newest first."""
    return json_response(await list_news(session, principal=principal, params=dict(request.query_params)))


@router.get("/data/projects/{project_id}/news", operation_id="get_project_news")
async def project_news(project_id: ProjectId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """A project's news, newest first (filters: task_status_id, person_id, task_type_id,
    before, after, only_preview; page, limit)."""
    await access.check_project_access(session, principal=principal, project_id=project_id)
    return json_response(await list_news(session, principal=principal, params=dict(request.query_params), project_id=project_id))


@router.get("/data/projects/{project_id}/news/{news_id}", operation_id="get_project_news_item")
async def project_news_item(project_id: ProjectId, news_id: NewsId, principal: CurrentUser, session: SessionDep) -> Response:
    """One news entry of a project."""
    await access.check_project_access(session, principal=principal, project_id=project_id)
    return json_response(await list_news(session, principal=principal, params={}, project_id=project_id, news_id=news_id))


@router.get("/data/entities/{entity_id}/news", operation_id="get_entity_news")
async def entity_news(entity_id: EntityId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """The news of an entity's tasks."""
    return json_response(await news_of_entity(session, principal=principal, params=dict(request.query_params), entity_id=entity_id))
