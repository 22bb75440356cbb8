"""CRUD hooks where auth's models behave differently from the defaults."""

from __future__ import annotations

from typing import Any

from slate_common.crud import CrudContext, CrudHooks
from slate_common.errors import BadRequest
from slate_common.security import ROLES

from .domain.identity import person_snapshot, revoke_all_tokens, serialize_person
from .models import Person


class PersonHooks(CrudHooks[Person]):
    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Person | None) -> dict[str, Any]:
        role = data.get("role")
        if role is not None and role not in ROLES:
            raise BadRequest(f"Invalid role: {role}")
        if data.get("email"):
            data["email"] = data["email"].strip()
        return data

    async def pre_update(self, ctx: CrudContext, instance: Person, data: dict[str, Any]) -> None:
        """A role change or a deactivation ends every session of that person, in every
        service (the revocation is shared through NATS KV)."""
        demoted = "role" in data and data["role"] != instance.role
        deactivated = data.get("active") is False and instance.active
        if demoted or deactivated:
            await revoke_all_tokens(ctx.runtime, instance.id)

    async def pre_delete(self, ctx: CrudContext, instance: Person) -> None:
        await revoke_all_tokens(ctx.runtime, instance.id)

    async def serialize(self, ctx: CrudContext, instance: Person, *, relations: bool) -> dict[str, Any]:
        return await serialize_person(ctx.session, instance)

    async def event_snapshot(self, ctx: CrudContext, instance: Person) -> dict[str, Any]:
        return await person_snapshot(ctx.session, instance)
