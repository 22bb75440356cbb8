"""Guessing what a file path is about from the project's file tree
(``POST /data/entities/guess-from-path``).

Each section of the tree (``working``, ``output``, ...) gives one template per entity
kind: ``<mountpoint>/<root>/<folder_path[kind]>``. A template fits a path when its
literal components equal the path's (names compared lowercased, spaces as
underscores). Its tokens are then resolved in order against the project's data
(``<Project>``, ``<Episode>``, ``<Sequence>``, ``<Shot>``, ``<AssetType>``, ``<Asset>``,
``<TaskType>``, ``<Department>``) until one finds nothing or the path ends; the answer
lists, per fitting template, its name and the ids found. Components mixing text and
tokens (``v<Revision>``) are passed over. A project without a file tree is a 400
(Zou fails with a 500 there).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest

from ..models import TEMPORAL_TYPES, Department, Entity, EntityType, Project, TaskType

TOKEN = re.compile(r"^<([A-Za-z]+)>$")


def normalize(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def templates(tree: dict[str, Any]) -> list[tuple[str, list[str]]]:
    out = []
    for section in tree.values():
        if not isinstance(section, dict) or not isinstance(section.get("folder_path"), dict):
            continue
        prefix = [*str(section.get("mountpoint") or "").split("/"), *str(section.get("root") or "").split("/")]
        prefix = prefix[:1] + [p for p in prefix[1:] if p]
        for kind, template in section["folder_path"].items():
            if kind == "style" or not isinstance(template, str):
                continue
            out.append((kind, prefix + [p for p in template.split("/") if p]))
    return out


def _fits(parts: list[str], path: list[str]) -> bool:
    for part, given in zip(parts, path):
        if "<" not in part and normalize(part) != normalize(given):
            return False
    return True


class _Resolver:
    """Finds the ids the tokens name, within one project (one query per lookup)."""

    def __init__(self, session: AsyncSession, project: Project) -> None:
        self.session = session
        self.project = project

    async def _entity(self, type_name: str | None, name: str, **where: Any) -> uuid.UUID | None:
        stmt = (select(Entity.id).join(EntityType, EntityType.id == Entity.entity_type_id)
                .where(Entity.project_id == self.project.id,
                       func.replace(func.lower(Entity.name), " ", "_") == normalize(name)))
        if type_name is not None:
            stmt = stmt.where(EntityType.name == type_name)
        for key, value in where.items():
            stmt = stmt.where(getattr(Entity, key) == value)
        return (await self.session.scalars(stmt.order_by(Entity.created_at).limit(1))).first()

    async def resolve(self, token: str, value: str, found: dict[str, uuid.UUID]) -> uuid.UUID | None:
        if token == "Project":
            names = {normalize(self.project.name), normalize(self.project.code or "")} - {""}
            return self.project.id if normalize(value) in names else None
        if token == "Episode":
            return await self._entity("Episode", value)
        if token == "Sequence":
            parent = {"parent_id": found["Episode"]} if "Episode" in found else {}
            return await self._entity("Sequence", value, **parent)
        if token == "Shot":
            parent = {"parent_id": found["Sequence"]} if "Sequence" in found else {}
            return await self._entity("Shot", value, **parent)
        if token == "AssetType":
            return (await self.session.scalars(select(EntityType.id).where(
                EntityType.name.not_in(TEMPORAL_TYPES),
                func.replace(func.lower(EntityType.name), " ", "_") == normalize(value)).limit(1))).first()
        if token == "Asset":
            if "AssetType" in found:
                return await self._entity(None, value, entity_type_id=found["AssetType"])
            return await self._entity(None, value)
        if token == "TaskType":
            return (await self.session.scalars(select(TaskType.id).where(
                func.replace(func.lower(TaskType.name), " ", "_") == normalize(value))
                .order_by(TaskType.priority, TaskType.name).limit(1))).first()
        if token == "Department":
            return (await self.session.scalars(select(Department.id).where(
                func.replace(func.lower(Department.name), " ", "_") == normalize(value)).limit(1))).first()
        return None


async def guess_from_path(session: AsyncSession, *, project: Project, file_path: str,
                          sep: str = "/") -> list[dict[str, Any]]:
    tree = project.file_tree
    if not isinstance(tree, dict) or not tree:
        raise BadRequest("No tree can be found for given project.")
    path = file_path.split(sep or "/")
    resolver = _Resolver(session, project)
    out = []
    for kind, parts in templates(tree):
        if not _fits(parts, path):
            continue
        match: dict[str, Any] = {"Template": kind}
        found: dict[str, uuid.UUID] = {}
        for part, given in zip(parts, path):
            if "<" not in part:
                continue
            token = TOKEN.match(part)
            if token is None:
                continue  # text around a token (v<Revision>): not an entity
            found_id = await resolver.resolve(token.group(1), given, found)
            if found_id is None:
                break
            found[token.group(1)] = found_id
            match[token.group(1)] = str(found_id)
        out.append(match)
    return out
