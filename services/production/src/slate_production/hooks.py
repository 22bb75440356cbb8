"""CRUD hooks where production's models differ from the defaults (Zou's rules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from slate_common.crud import CrudContext, CrudHooks
from slate_common.errors import BadRequest, Forbidden

from .domain import entities as entity_rules
from .domain import projects as project_rules
from .models import Project

PRODUCTION_STYLES = frozenset({"2d", "3d", "2d3d", "ar", "vfx", "stop-motion", "motion-design", "archviz",
                               "commercial", "catalog", "immersive", "nft", "video-game", "vr"})
PRODUCTION_TYPES = frozenset({"short", "featurefilm", "tvshow"})


class ProjectHooks(CrudHooks[Project]):
    def scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        return project_rules.scope_projects(stmt, ctx.principal)

    async def check_update(self, ctx: CrudContext, instance: Project, data: dict[str, Any]) -> None:
        if ctx.principal.is_admin:
            return
        if ctx.principal.role != "manager" or not await project_rules.is_in_team(ctx.session, instance.id, ctx.principal.id):
            raise Forbidden()

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Project | None) -> dict[str, Any]:
        style = data.get("production_style")
        if style is not None and style not in PRODUCTION_STYLES:
            raise BadRequest(f"Invalid production_style: {style}")
        ptype = data.get("production_type")
        if ptype is not None and ptype not in PRODUCTION_TYPES:
            raise BadRequest(f"Invalid production_type: {ptype}")
        if instance is None and not data.get("project_status_id"):
            data["project_status_id"] = await project_rules.status_id(ctx.session, project_rules.OPEN)
        return data

    async def pre_delete(self, ctx: CrudContext, instance: Project) -> None:
        closed = await project_rules.status_id(ctx.session, project_rules.CLOSED)
        if instance.project_status_id != closed:
            raise BadRequest("Only closed projects can be deleted")

    async def post_creation(self, ctx: CrudContext, instance: Project) -> None:
        if instance.production_type == "tvshow":
            await entity_rules.create_first_episode(ctx.session, project=instance, actor_id=ctx.principal.id)

    async def serialize(self, ctx: CrudContext, instance: Project, *, relations: bool) -> dict[str, Any]:
        if relations:
            row = (await project_rules.serialize_with_relations(ctx.session, [instance]))[0]
            if instance.production_type == "tvshow":
                first = await project_rules.first_episode_ids(ctx.session, [instance.id])
                if instance.id in first:
                    row["first_episode_id"] = first[instance.id]
            return row
        return instance.serialize()

    async def serialize_one(self, ctx: CrudContext, instance: Project, *, relations: bool) -> dict[str, Any]:
        if relations:
            return (await project_rules.serialize_for_listing(ctx.session, [instance], with_status_name=True))[0]
        return instance.serialize()

    async def event_snapshot(self, ctx: CrudContext, instance: Project) -> dict[str, Any]:
        return await project_rules.project_snapshot(ctx.session, instance)

    def event_project_id(self, instance: Project) -> Any:
        return instance.id
