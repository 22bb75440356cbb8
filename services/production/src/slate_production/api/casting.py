"""Casting (breakdown) routes: what Kitsu's breakdown page and the asset and shot pages
read and write. Reads for the project's team (vendors refused, as in Zou); writes for
its managers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest
from slate_common.params import (
    AssetId,
    AssetTypeId,
    Body,
    EntityId,
    EntityLinkId,
    EpisodeId,
    JsonBody,
    ProjectId,
    SequenceId,
    ShotId,
    documented_body,
)
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, casting_commands, casting_queries
from ..domain.casting_commands import CastAssetIn

router = APIRouter(tags=["Casting"])


class CastingEntry(Body):
    """One asset of a casting; an entry without ``nb_occurences`` is skipped, as Zou."""

    asset_id: uuid.UUID
    nb_occurences: Annotated[int, Field(ge=0)]
    label: str | None = None


#: A casting as Kitsu sends it: the last entry of an asset wins.
Casting = list[CastingEntry]


# --- one entity's casting -----------------------------------------------------------------


@router.get("/data/projects/{project_id}/entities/{entity_id}/casting", operation_id="get_entity_casting")
async def get_entity_casting(project_id: ProjectId, entity_id: EntityId, principal: CurrentUser,
                             session: SessionDep) -> Response:
    """The assets an entity of the project casts."""
    await casting_queries.check_read(session, principal=principal, project_id=project_id)
    await casting_queries.load_entity(session, entity_id=entity_id, project_id=project_id)
    return json_response((await casting_queries.entity_casting(session, entity_ids=[entity_id]))[entity_id])


@router.put("/data/projects/{project_id}/entities/{entity_id}/casting", operation_id="update_entity_casting",
            openapi_extra=documented_body(Casting))
async def put_entity_casting(project_id: ProjectId, entity_id: EntityId, body: JsonBody, principal: CurrentUser,
                             session: SessionDep) -> Response:
    """Replace an entity's casting (managers); answers the casting sent."""
    await access.check_manager(session, principal=principal, project_id=project_id)
    entity, type_name = await casting_queries.load_entity(session, entity_id=entity_id, project_id=project_id)
    cast = casting_commands.parse_casting(body)
    await casting_commands.set_casting(session, principal=principal, entity=entity, type_name=type_name, casting=cast, checked=True)
    return json_response(body)


@router.put("/data/projects/{project_id}/entities/casting", operation_id="update_entities_casting",
            openapi_extra=documented_body(dict[uuid.UUID, Casting]))
async def put_entities_casting(project_id: ProjectId, body: JsonBody, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Replace the casting of several entities of a project (``{entity_id: casting}``)."""
    await casting_commands.set_castings(session, principal=principal, project_id=project_id, body=body)
    return json_response(body)


@router.put("/data/projects/{project_id}/entities/casting/assets/{asset_id}", operation_id="cast_asset_in_entities")
async def put_asset_in_entities(project_id: ProjectId, asset_id: AssetId, body: CastAssetIn, principal: CurrentUser,
                                session: SessionDep) -> Response:
    """Set how one asset is cast in each given entity; answers their castings."""
    ids = await casting_commands.cast_asset(session, principal=principal, project_id=project_id, asset_id=asset_id, body=body)
    castings = await casting_queries.entity_casting(session, entity_ids=ids)
    return json_response({str(i): castings[i] for i in ids})


@router.get("/data/assets/{asset_id}/casting", operation_id="get_asset_casting")
async def get_asset_casting(asset_id: AssetId, principal: CurrentUser, session: SessionDep) -> Response:
    """The assets an asset casts."""
    await casting_queries.readable_entity(session, principal=principal, entity_id=asset_id, kind="Asset")
    return json_response((await casting_queries.entity_casting(session, entity_ids=[asset_id]))[asset_id])


@router.put("/data/assets/{asset_id}/casting", operation_id="update_asset_casting",
            openapi_extra=documented_body(Casting))
async def put_asset_casting(asset_id: AssetId, body: JsonBody, principal: CurrentUser,
                            session: SessionDep) -> Response:
    """Replace the assets an asset casts (managers); answers the casting set."""
    asset, type_name = await casting_queries.readable_entity(session, principal=principal, entity_id=asset_id, kind="Asset", vendors=True)
    await access.check_manager(session, principal=principal, project_id=asset.project_id)
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array.", data=None)
    cast = casting_commands.parse_casting(body)
    await casting_commands.set_casting(session, principal=principal, entity=asset, type_name=type_name, casting=cast, checked=True)
    return json_response([{"asset_id": str(c.asset_id), "nb_occurences": c.nb_occurences, "label": c.label}
                          for c in cast])


# --- project-wide castings -------------------------------------------------------------------


@router.get("/data/projects/{project_id}/sequences/all/casting", operation_id="get_project_shots_casting")
async def get_project_shots_casting(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Casting of every shot of the project, keyed by shot id."""
    await casting_queries.check_read(session, principal=principal, project_id=project_id)
    return Response(await casting_queries.shots_casting(session, project_id=project_id), media_type="application/json")


@router.get("/data/projects/{project_id}/sequences/{sequence_id}/casting", operation_id="get_sequence_casting")
async def get_sequence_casting(project_id: ProjectId, sequence_id: SequenceId, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Casting of a sequence's shots, keyed by shot id."""
    await casting_queries.check_read(session, principal=principal, project_id=project_id)
    await casting_queries.load_entity(session, entity_id=sequence_id, project_id=project_id, kind="Sequence")
    return Response(await casting_queries.shots_casting(session, project_id=project_id, sequence_id=sequence_id),
                    media_type="application/json")


@router.get("/data/projects/{project_id}/episodes/casting", operation_id="get_episodes_casting")
async def get_episodes_casting(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Casting of the project's episodes, keyed by episode id."""
    await casting_queries.check_read(session, principal=principal, project_id=project_id)
    return json_response(await casting_queries.holders_casting(session, project_id=project_id, kind="Episode"))


@router.get("/data/projects/{project_id}/episodes/{episode_id}/sequences/all/casting",
            operation_id="get_episode_shots_casting")
async def get_episode_shots_casting(project_id: ProjectId, episode_id: EpisodeId, principal: CurrentUser,
                                    session: SessionDep) -> Response:
    """Casting of an episode's shots, keyed by shot id."""
    await casting_queries.check_read(session, principal=principal, project_id=project_id)
    await casting_queries.load_entity(session, entity_id=episode_id, project_id=project_id, kind="Episode")
    return Response(await casting_queries.shots_casting(session, project_id=project_id, episode_id=episode_id),
                    media_type="application/json")


@router.get("/data/projects/{project_id}/asset-types/{asset_type_id}/casting", operation_id="get_asset_type_casting")
async def get_asset_type_casting(project_id: ProjectId, asset_type_id: AssetTypeId, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """Casting of the project's assets of a type, keyed by asset id."""
    await casting_queries.check_read(session, principal=principal, project_id=project_id)
    return json_response(await casting_queries.holders_casting(session, project_id=project_id, kind="Asset",
                                                       asset_type_id=asset_type_id))


# --- around one asset or shot ---------------------------------------------------------------


@router.get("/data/assets/{asset_id}/cast-in", operation_id="get_asset_cast_in")
async def get_asset_cast_in(asset_id: AssetId, principal: CurrentUser, session: SessionDep) -> Response:
    """The shots, then the assets, that cast an asset."""
    await casting_queries.readable_entity(session, principal=principal, entity_id=asset_id, kind="Asset")
    return json_response(await casting_queries.cast_in(session, asset_id=asset_id))


@router.get("/data/assets/{asset_id}/assets", operation_id="get_asset_assets")
async def get_asset_assets(asset_id: AssetId, principal: CurrentUser, session: SessionDep) -> Response:
    """The assets an asset casts, as asset rows."""
    await casting_queries.readable_entity(session, principal=principal, entity_id=asset_id, kind="Asset")
    return json_response(await casting_queries.cast_assets(session, entity_id=asset_id))


@router.get("/data/shots/{shot_id}/assets", operation_id="get_shot_assets")
async def get_shot_assets(shot_id: ShotId, principal: CurrentUser, session: SessionDep) -> Response:
    """The assets a shot casts, as asset rows."""
    await casting_queries.readable_entity(session, principal=principal, entity_id=shot_id, kind="Shot")
    return json_response(await casting_queries.cast_assets(session, entity_id=shot_id))


@router.get("/data/shots/{shot_id}/asset-types", operation_id="get_shot_asset_types")
async def get_shot_asset_types(shot_id: ShotId, principal: CurrentUser, session: SessionDep) -> Response:
    """The asset types of the assets a shot casts."""
    await casting_queries.readable_entity(session, principal=principal, entity_id=shot_id, kind="Shot", vendors=True)
    return json_response(await casting_queries.cast_asset_types(session, entity_id=shot_id))


@router.get("/data/entities/{entity_id}/entities-linked/with-tasks", operation_id="get_entities_linked_with_tasks")
async def get_linked_entities(entity_id: EntityId, principal: CurrentUser, session: SessionDep) -> Response:
    """The concepts linked to an entity, with their tasks."""
    await casting_queries.readable_entity(session, principal=principal, entity_id=entity_id)
    return json_response(await casting_queries.concepts_linked(session, principal=principal, entity_id=entity_id))


@router.get("/data/projects/{project_id}/assets/shared-used", operation_id="get_project_shared_assets_used")
async def get_shared_used(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Shared assets of other projects cast in this project."""
    await access.check_read(session, principal=principal, project_id=project_id)
    return json_response(await casting_queries.shared_used(session, project_id=project_id))


@router.get("/data/projects/{project_id}/episodes/{episode_id}/assets/shared-used",
            operation_id="get_episode_shared_assets_used")
async def get_episode_shared_used(project_id: ProjectId, episode_id: EpisodeId, principal: CurrentUser,
                                  session: SessionDep) -> Response:
    """Shared assets of other projects cast in an episode."""
    await access.check_read(session, principal=principal, project_id=project_id)
    await casting_queries.load_entity(session, entity_id=episode_id, project_id=project_id, kind="Episode")
    return json_response(await casting_queries.shared_used(session, project_id=project_id, episode_id=episode_id))


# --- a project's links (synchronisation) ---------------------------------------------------------


def _positive(value: str | None, name: str, default: int | None) -> int | None:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer") from exc
    return max(number, 1)


@router.get("/data/projects/{project_id}/entity-links", operation_id="get_project_entity_links")
async def get_project_links(project_id: ProjectId, request: Request, principal: CurrentUser,
                            session: SessionDep) -> Response:
    """The casting links of a project (managers); ``page``/``limit``, ``cursor_created_at``."""
    await access.check_manager(session, principal=principal, project_id=project_id)
    q = request.query_params
    cursor = None
    if q.get("cursor_created_at"):
        try:
            cursor = dt.datetime.fromisoformat(q["cursor_created_at"])
        except ValueError as exc:
            raise BadRequest("cursor_created_at must be an ISO date and time") from exc
    page = _positive(q.get("page"), "page", None)
    limit = _positive(q.get("limit"), "limit", 100) or 100
    return json_response(await casting_queries.project_links(session, project_id=project_id, page=page, limit=limit,
                                                     cursor=cursor))


@router.delete("/data/projects/{project_id}/entity-links/{entity_link_id}", operation_id="delete_project_entity_link")
async def delete_project_link(project_id: ProjectId, entity_link_id: EntityLinkId, principal: CurrentUser,
                              session: SessionDep) -> Response:
    """Remove one casting link of a project (managers); answers the link removed."""
    return json_response(await casting_commands.delete_link(session, principal=principal, project_id=project_id,
                                                   link_id=entity_link_id))

