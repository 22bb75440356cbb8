"""CRUD hooks where production's models differ from the defaults (Zou's rules)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from slate_common.crud import DELETING, CrudContext, CrudHooks
from slate_common.errors import BadRequest, Forbidden, InvalidFormat, NotFound, SlateError
from slate_common.serialization import now

from .domain import access, casting_commands, casting_queries, shot_versions, task_reads
from .domain import entities as entity_rules
from .domain import projects as project_rules
from .domain import tasks as task_rules
from .domain.asset_types import serialize_asset_types
from .models import (
    Comment,
    Entity,
    EntityType,
    Notification,
    Person,
    Project,
    ProjectTaskStatusLink,
    ProjectTaskTypeLink,
    Subscription,
    Task,
    TaskStatus,
    TaskType,
    project_asset_type_link,
    task_person_link,
)

PRODUCTION_STYLES = frozenset({"2d", "3d", "2d3d", "ar", "vfx", "stop-motion", "motion-design", "archviz",
                               "commercial", "catalog", "immersive", "nft", "video-game", "vr"})
PRODUCTION_TYPES = frozenset({"short", "featurefilm", "tvshow"})


def merge_data(data: dict[str, Any], current: dict[str, Any] | None) -> None:
    """Zou's updates of entities and tasks add to their ``data`` (metadata) fields
    rather than replace them; ``data: null`` changes nothing."""
    if "data" not in data:
        return
    if data["data"] is None:
        del data["data"]
    elif isinstance(data["data"], dict):
        data["data"] = {**(current or {}), **data["data"]}
    else:
        raise BadRequest("data must be an object")


class StillReferenced(BadRequest):
    """A deletion other rows still refer to, in the shape Zou answers it: ``{"message"}``."""

    default_message = "Other records still refer to this one: it cannot be deleted."

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


async def _referenced(ctx: CrudContext, *conditions: Any) -> bool:
    """True when any of the ``exists()`` conditions holds."""
    for condition in conditions:
        if await ctx.session.scalar(select(condition)):
            return True
    return False


class ProjectHooks(CrudHooks[Project]):
    """Listings hold the caller's projects; one project named out of the caller's teams
    answers 403 (404 only when there is none), as Zou. A deletion answers Zou's 400 for a
    project still open before any permission check (Zou's order), then admins only."""

    def list_scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        return project_rules.scope_projects(stmt, principal=ctx.principal)

    async def check_read(self, ctx: CrudContext, instance: Project) -> None:
        if ctx.principal.is_admin or ctx.scratch.get(DELETING):
            return
        if not await project_rules.is_in_team(ctx.session, project_id=instance.id, person_id=ctx.principal.id):
            raise Forbidden()

    async def check_update(self, ctx: CrudContext, instance: Project, data: dict[str, Any]) -> None:
        if ctx.principal.is_admin:
            return
        if ctx.principal.role != "manager" or not await project_rules.is_in_team(ctx.session, project_id=instance.id, person_id=ctx.principal.id):
            raise Forbidden()

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Project | None) -> dict[str, Any]:
        style = data.get("production_style")
        if style is not None and style not in PRODUCTION_STYLES:
            raise BadRequest(f"Invalid production_style: {style}")
        ptype = data.get("production_type")
        if ptype is not None and ptype not in PRODUCTION_TYPES:
            raise BadRequest(f"Invalid production_type: {ptype}")
        if instance is None and not data.get("project_status_id"):
            data["project_status_id"] = await project_rules.status_id(ctx.session, name=project_rules.OPEN)
        return data

    async def check_delete(self, ctx: CrudContext, instance: Project) -> None:
        closed = await project_rules.status_id(ctx.session, name=project_rules.CLOSED)
        if instance.project_status_id != closed:
            raise BadRequest("Only closed projects can be deleted")
        await super().check_delete(ctx, instance)

    async def post_creation(self, ctx: CrudContext, instance: Project) -> None:
        if instance.production_type == "tvshow":
            await entity_rules.create_first_episode(ctx.session, project=instance, actor_id=ctx.principal.id)

    async def serialize(self, ctx: CrudContext, instance: Project, *, relations: bool) -> dict[str, Any]:
        if relations:
            row = (await project_rules.serialize_with_relations(ctx.session, projects=[instance]))[0]
            if instance.production_type == "tvshow":
                first = await project_rules.first_episode_ids(ctx.session, project_ids=[instance.id])
                if instance.id in first:
                    row["first_episode_id"] = first[instance.id]
            return row
        return instance.serialize()

    async def serialize_one(self, ctx: CrudContext, instance: Project, *, relations: bool) -> dict[str, Any]:
        if relations:
            return (await project_rules.serialize_for_listing(ctx.session, projects=[instance], with_status_name=True))[0]
        return instance.serialize()

    async def event_snapshot(self, ctx: CrudContext, instance: Project) -> dict[str, Any]:
        return await project_rules.project_snapshot(ctx.session, project=instance)

    def event_project_id(self, instance: Project) -> Any:
        return instance.id


class EntityTypeHooks(CrudHooks[EntityType]):
    """Studio-wide reference data: everyone reads, admins write; names are unique."""

    async def check_creation_integrity(self, ctx: CrudContext, data: dict[str, Any]) -> dict[str, Any]:
        name = data.get("name")
        if name and await ctx.session.scalar(select(EntityType.id).where(func.lower(EntityType.name) == name.lower())):
            raise BadRequest("Entity type with this name already exists")
        return data

    async def serialize(self, ctx: CrudContext, instance: EntityType, *, relations: bool) -> dict[str, Any]:
        """One entity type (GET, and the answers of POST and PUT) carries its workflow's
        ``task_types``; lists and events do not, as Zou."""
        row = (await serialize_asset_types(ctx.session, types=[instance]))[0]
        row["type"] = "EntityType"
        return row

    async def serialize_many(
        self, ctx: CrudContext, instances: list[EntityType], *, relations: bool
    ) -> list[dict[str, Any]]:
        return [instance.serialize() for instance in instances]

    async def pre_delete(self, ctx: CrudContext, instance: EntityType) -> None:
        """Not while a project uses it or an entity is of it (Zou: 400, force or not)."""
        if await _referenced(ctx, exists().where(project_asset_type_link.c.asset_type_id == instance.id),
                             exists().where(Entity.entity_type_id == instance.id)):
            raise StillReferenced()


class TaskTypeHooks(CrudHooks[TaskType]):
    async def check_creation_integrity(self, ctx: CrudContext, data: dict[str, Any]) -> dict[str, Any]:
        exists_ = await ctx.session.scalar(select(TaskType.id).where(
            func.lower(TaskType.name) == str(data.get("name", "")).lower(),
            TaskType.for_entity == (data.get("for_entity") or "Asset"),
            TaskType.department_id.is_(None) if data.get("department_id") is None
            else TaskType.department_id == data["department_id"],
        ))
        if exists_:
            raise BadRequest("A task type with similar name already exists")
        return data

    async def pre_delete(self, ctx: CrudContext, instance: TaskType) -> None:
        """Not while projects use it, unless ``force=true`` (which takes it out of them)."""
        attached = exists().where(ProjectTaskTypeLink.task_type_id == instance.id)
        if not ctx.scratch.get("force") and await _referenced(ctx, attached):
            raise BadRequest("The task type is used by projects: add force=true to take it out of them.", data=None)


class TaskStatusHooks(CrudHooks[TaskStatus]):
    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: TaskStatus | None) -> dict[str, Any]:
        if instance is None and not data.get("color"):
            raise BadRequest("A required field is missing.")
        return data

    async def pre_delete(self, ctx: CrudContext, instance: TaskStatus) -> None:
        """Not while a project or a task uses it (Zou: 400, force or not)."""
        if await _referenced(ctx, exists().where(ProjectTaskStatusLink.task_status_id == instance.id),
                             exists().where(Task.task_status_id == instance.id)):
            raise StillReferenced()


#: The scratch key of the assignees a task update sets (a list of ids; absent: unchanged).
SET_ASSIGNEES = "set_assignees"


def _assignee_ids(value: Any) -> list[uuid.UUID]:
    """The ids of a body's ``assignees`` (ids or ``{"id": ...}``; null: none), each once;
    anything else is Zou's 400 for a malformed value."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidFormat()
    ids: dict[uuid.UUID, None] = {}
    for item in value:
        raw = item.get("id") if isinstance(item, dict) else item
        try:
            ids[uuid.UUID(str(raw))] = None
        except ValueError:
            raise InvalidFormat() from None
    return list(ids)


#: What every task update changes in its snapshot, and the one field that is not a column.
_ALWAYS_CHANGED = frozenset({"updated_at"})
_ASSIGNEES = frozenset({"assignees"})


class TaskHooks(CrudHooks[Task]):
    """Tasks through /data/tasks: project scope (vendors: their tasks), supervisors edit,
    managers create and delete; events carry Zou's task snapshot."""

    def list_scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        stmt = stmt.where(access.project_visible(ctx.principal, project_col=Task.project_id))
        if ctx.principal.is_vendor:
            stmt = stmt.where(access.assigned_to(ctx.principal, task_id_col=Task.id))
        return stmt

    async def read_one(self, ctx: CrudContext, instance_id: uuid.UUID, *, relations: bool) -> dict[str, Any] | None:
        """GET /data/tasks/<id> from one plain row (:func:`task_reads.read_task`)."""
        return await task_reads.read_task(ctx.session, principal=ctx.principal, task_id=instance_id,
                                          relations=relations)

    async def load(self, ctx: CrudContext, stmt: Select[Any], *, instance_id: uuid.UUID) -> Task | None:
        """The task with the caller's project role and its assignees, in one round trip
        (what :meth:`check_read`, :meth:`check_update` and the answer read), from a
        statement built once per role (:func:`task_reads.load_task`: tasks have no
        :meth:`scope`, ``stmt`` is the task by id)."""
        found = await task_reads.load_task(ctx.session, principal=ctx.principal, task_id=instance_id)
        if found is None:
            return None
        task, role, assignees = found
        ctx.scratch["role_and_assignees"] = (task.id, role, assignees)
        return task

    async def _read(self, ctx: CrudContext, instance: Task) -> tuple[str | None, list[str]]:
        """The caller's project role and the task's assignees, read once per request
        (:func:`access.role_and_assignees`)."""
        known = ctx.scratch.get("role_and_assignees")
        if known is None or known[0] != instance.id:
            known = (instance.id, *await access.role_and_assignees(ctx.session, principal=ctx.principal, task=instance))
            ctx.scratch["role_and_assignees"] = known
        return known[1], known[2]

    async def check_read(self, ctx: CrudContext, instance: Task) -> None:
        """One task (read, update, delete): 403 out of the caller's projects, and for a
        vendor not assigned to it, as Zou answers (listings leave them out)."""
        if ctx.principal.is_admin:
            return
        role, assignees = await self._read(ctx, instance)
        if role is None:
            raise Forbidden()
        if ctx.principal.is_vendor and str(ctx.principal.id) not in assignees:
            raise Forbidden()

    async def check_create(self, ctx: CrudContext, data: dict[str, Any]) -> None:
        if data.get("project_id") is None:
            raise BadRequest("A required field is missing.")
        await access.check_manager(ctx.session, principal=ctx.principal, project_id=data["project_id"])

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Task | None) -> dict[str, Any]:
        given = "assignees" in data
        ctx.scratch["assignees"] = data.pop("assignees", None)
        if instance is not None and given:  # checked before anything of the body is applied
            ctx.scratch[SET_ASSIGNEES] = _assignee_ids(ctx.scratch["assignees"])
        if instance is None:
            if not data.get("task_status_id"):
                data["task_status_id"] = await task_rules.default_status_id(ctx.session)
            data["name"] = data.get("name") or "main"
        else:
            data.pop("project_id", None)  # a task stays in its project
            merge_data(data, instance.data)
        return data

    async def post_creation(self, ctx: CrudContext, instance: Task) -> None:
        """``assignees`` of the body (gazu.task.new_task sends them): persons production
        knows are assigned; other ids are ignored."""
        wanted = ctx.scratch.get("assignees")
        if not isinstance(wanted, list) or not wanted:
            return
        ids = []
        for value in wanted:
            raw = value.get("id") if isinstance(value, dict) else value
            try:
                ids.append(uuid.UUID(str(raw)))
            except ValueError:
                continue
        known = (await ctx.session.scalars(select(Person.id).where(Person.id.in_(ids)))).all() if ids else []
        if known:
            await ctx.session.execute(pg_insert(task_person_link).values(
                [{"task_id": instance.id, "person_id": person_id} for person_id in dict.fromkeys(known)]
            ).on_conflict_do_nothing())

    async def post_update(self, ctx: CrudContext, instance: Task, data: dict[str, Any]) -> None:
        """``assignees`` in the body (gazu.task.update_task sends the whole task): they
        become the task's assignees, as Zou (ids of persons production does not know are
        left out; the team does not change, unlike the assign actions). The task's
        ``updated_at`` moves, as with every change of assignees (the listings' stamps)."""
        wanted = ctx.scratch.get(SET_ASSIGNEES)
        if wanted is None:
            return
        known = list((await ctx.session.scalars(select(Person.id).where(Person.id.in_(wanted)))).all()) if wanted else []
        link = task_person_link
        await ctx.session.execute(delete(link).where(link.c.task_id == instance.id, link.c.person_id.not_in(known)))
        if known:
            await ctx.session.execute(pg_insert(link).values(
                [{"task_id": instance.id, "person_id": person_id} for person_id in known]).on_conflict_do_nothing())
        instance.updated_at = now()
        await ctx.session.flush()

    async def check_update(self, ctx: CrudContext, instance: Task, data: dict[str, Any]) -> None:
        """Supervisors of the task's project (the role :meth:`check_read` read)."""
        if ctx.principal.is_admin:
            return
        role, _ = await self._read(ctx, instance)
        if role not in access.SUPERVISORS:
            raise Forbidden()

    async def check_delete(self, ctx: CrudContext, instance: Task) -> None:
        await access.check_manager(ctx.session, principal=ctx.principal, project_id=instance.project_id)

    async def pre_delete(self, ctx: CrudContext, instance: Task) -> None:
        """Without ``force=true`` (gazu sends it), a task others refer to stays: its
        comments, notifications (an assignation makes one) or subscriptions (Zou: 400)."""
        if ctx.scratch.get("force"):
            return
        if await _referenced(ctx, exists().where(Comment.object_id == instance.id),
                             exists().where(Notification.task_id == instance.id),
                             exists().where(Subscription.task_id == instance.id)):
            raise StillReferenced()

    async def serialize(self, ctx: CrudContext, instance: Task, *, relations: bool) -> dict[str, Any]:
        """With relations (create, GET one): the assignees too, as Zou (those
        :meth:`check_read` read, when it did)."""
        if relations:
            if ctx.principal.is_client:  # clients are not told who works on a task
                return task_rules.client_view(task_rules.serialize_task(instance, assignees=[]))
            known = ctx.scratch.get("role_and_assignees")
            if known is not None and known[0] == instance.id:
                return task_rules.serialize_task(instance, assignees=known[2])
            return await task_rules.task_snapshot(ctx.session, task=instance)
        if ctx.principal.is_client:
            return task_rules.client_view(instance.serialize())
        return instance.serialize()

    async def serialize_many(self, ctx: CrudContext, instances: list[Task], *, relations: bool) -> list[dict[str, Any]]:
        if not relations:
            if ctx.principal.is_client:
                return [task_rules.client_view(t.serialize()) for t in instances]
            return [t.serialize() for t in instances]
        if ctx.principal.is_client:
            return [task_rules.client_view(task_rules.serialize_task(t, assignees=[])) for t in instances]
        assignees = await task_rules.assignees_of(ctx.session, task_ids=[t.id for t in instances])
        return [task_rules.serialize_task(t, assignees=assignees[t.id]) for t in instances]

    def changed_fields(self, ctx: CrudContext, instance: Task, data: dict[str, Any], *,
                       written: frozenset[str]) -> frozenset[str]:
        """The columns the update changed, ``updated_at``, and ``assignees`` whenever the
        body names them, ``null`` included (the only field of the snapshot that is not a column): media's
        task replica, which keeps the project, entity, type and assignees, skips an
        estimation or priority change."""
        return written | _ALWAYS_CHANGED | (_ASSIGNEES if SET_ASSIGNEES in ctx.scratch else frozenset())

    async def event_snapshot(self, ctx: CrudContext, instance: Task) -> dict[str, Any]:
        return await task_reads.task_snapshot(ctx.session, task=instance)


class EntityHooks(CrudHooks[Entity]):
    """Generic /data/entities: project scope; managers of the project write."""

    def list_scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        return stmt.where(access.project_visible(ctx.principal, project_col=Entity.project_id))

    async def check_read(self, ctx: CrudContext, instance: Entity) -> None:
        """One entity (read, update, delete): 403 out of the caller's projects, and for a
        vendor without a task of theirs on it, as Zou answers (listings leave them out)."""
        if ctx.principal.is_admin:
            return
        if not await access.principal_in_team(ctx.session, principal=ctx.principal, project_id=instance.project_id):
            raise Forbidden()
        if ctx.principal.is_vendor and not await ctx.session.scalar(select(exists().where(
                Task.entity_id == instance.id, access.assigned_to(ctx.principal, task_id_col=Task.id)))):
            raise Forbidden()

    async def check_create(self, ctx: CrudContext, data: dict[str, Any]) -> None:
        if data.get("project_id") is None:
            raise BadRequest("A required field is missing.")
        await access.check_manager(ctx.session, principal=ctx.principal, project_id=data["project_id"])

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Entity | None) -> dict[str, Any]:
        if instance is None:
            data.setdefault("created_by", ctx.principal.id)
        else:
            merge_data(data, instance.data)
        return data

    async def check_update(self, ctx: CrudContext, instance: Entity, data: dict[str, Any]) -> None:
        await access.check_manager(ctx.session, principal=ctx.principal, project_id=instance.project_id)

    async def pre_update(self, ctx: CrudContext, instance: Entity, data: dict[str, Any]) -> None:
        if "data" in data and await entity_rules.type_name_of(ctx.session, entity_type_id=instance.entity_type_id) == "Shot":
            await shot_versions.record_if_frames_changed(
                ctx.session, shot=instance, name=data.get("name") or instance.name, before=instance.data,
                after=data["data"], person_id=ctx.principal.id)

    async def check_delete(self, ctx: CrudContext, instance: Entity) -> None:
        await access.check_manager(ctx.session, principal=ctx.principal, project_id=instance.project_id)

    async def serialize(self, ctx: CrudContext, instance: Entity, *, relations: bool) -> dict[str, Any]:
        """One entity (GET, and the answers of POST and PUT): the row with its (casting)
        link lists, in Zou's key order; lists and events carry the row alone."""
        row = entity_rules.serialize_entity(instance, type_name=await entity_rules.type_name_of(ctx.session, entity_type_id=instance.entity_type_id))
        links = await casting_queries.link_lists(ctx.session, entity_id=instance.id)
        out: dict[str, Any] = {}
        for key, value in row.items():
            if key == "created_at":
                out.update(entities_out=links["entities_out"], entity_concept_links=[], instance_casting=[])
            if key == "type":
                out["entities_in"] = links["entities_in"]
            out[key] = value
        return out

    async def pre_delete(self, ctx: CrudContext, instance: Entity) -> None:
        """Its casting goes with it; the entities that cast it are told."""
        await casting_commands.forget_entity(ctx.session, principal=ctx.principal, entity=instance,
                                    type_name=await entity_rules.type_name_of(ctx.session, entity_type_id=instance.entity_type_id))

    async def serialize_many(self, ctx: CrudContext, instances: list[Entity], *, relations: bool) -> list[dict[str, Any]]:
        names = dict((await ctx.session.execute(select(EntityType.id, EntityType.name))).all())
        return [entity_rules.serialize_entity(e, type_name=names.get(e.entity_type_id, "")) for e in instances]

    async def event_snapshot(self, ctx: CrudContext, instance: Entity) -> dict[str, Any]:
        return entity_rules.serialize_entity(instance, type_name=await entity_rules.type_name_of(ctx.session, entity_type_id=instance.entity_type_id))


class AdminOnlyHooks(CrudHooks[Any]):
    """Only admins list, read and write these rows through the generic routes (people use
    the /data/user/... and /actions/... routes for their own rows), as in Zou."""

    def scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        if not ctx.principal.is_admin:
            raise Forbidden()
        return stmt

    def event_project_id(self, instance: Any) -> Any:
        return getattr(instance, "project_id", None)


class CommentFlowRowHooks(AdminOnlyHooks):
    """The comment flow's own rows (news, notifications, subscriptions), as Zou answers
    for them: others are refused before the body is read, a delete by anyone but an
    admin is a 404, and a body missing a column is ``{"message": ...}`` alone."""

    async def check_access(self, ctx: CrudContext, operation: str) -> None:
        if ctx.principal.is_admin:
            return
        if operation == "delete":
            raise NotFound()
        raise Forbidden()

    def invalid_creation(self, error: SlateError) -> SlateError:
        return InvalidFormat(error.message)


class EntityLinkHooks(AdminOnlyHooks):
    """Zou's generic /data/entity-links routes: admins only (people cast through the
    casting routes)."""

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Any) -> dict[str, Any]:
        nb = data.get("nb_occurences")
        if nb is not None and nb < 0:
            raise BadRequest("nb_occurences must not be negative.")
        if instance is None and data.get("label") is None:
            data["label"] = ""
        return data
