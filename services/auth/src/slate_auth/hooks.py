"""CRUD hooks where auth's models behave differently from the defaults."""

from __future__ import annotations

from typing import Any

from slate_common.crud import CrudContext, CrudHooks
from slate_common.errors import BadRequest
from slate_common.security import ROLES

from .domain.identity import serialize_person
from .models import Person


class PersonHooks(CrudHooks[Person]):
    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Person | None) -> dict[str, Any]:
        role = data.get("role")
        if role is not None and role not in ROLES:
            raise BadRequest(f"Invalid role: {role}")
        if data.get("email"):
            data["email"] = data["email"].strip()
        return data

    async def serialize(self, ctx: CrudContext, instance: Person, *, relations: bool) -> dict[str, Any]:
        return await serialize_person(ctx.session, instance)
