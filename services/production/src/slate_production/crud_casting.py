"""Zou's generic /data/entity-links routes: admins only, as in Zou (people cast through
the casting routes)."""

from __future__ import annotations

from typing import Any

from slate_common.crud import CrudContext, CrudSpec
from slate_common.errors import BadRequest

from .crud_comments import AdminOnlyHooks
from .models import EntityLink


class EntityLinkHooks(AdminOnlyHooks):
    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Any) -> dict[str, Any]:
        nb = data.get("nb_occurences")
        if nb is not None and nb < 0:
            raise BadRequest("nb_occurences must not be negative.")
        if instance is None and data.get("label") is None:
            data["label"] = ""
        return data


CASTING_SPECS: list[CrudSpec[Any]] = [CrudSpec(EntityLink, "entity-links", hooks=EntityLinkHooks())]
