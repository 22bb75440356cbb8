"""CRUD hooks where auth's models behave differently from the defaults."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, select, text

from slate_common import bus
from slate_common.crud import CrudContext, CrudHooks
from slate_common.db import CompiledRead
from slate_common.errors import BadRequest, Forbidden, InvalidFormat, ServiceUnavailable, SlateError
from slate_common.revocation import revocation_bucket, revoke_token
from slate_common.security import ROLES
from slate_common.serialization import serialize_value

from .config import AuthSettings
from .domain.identity import (
    MINIMAL_PERSON_FIELDS,
    email_taken,
    existing_departments,
    person_snapshot,
    revoke_all_tokens,
    serialize_persons,
    set_departments,
)
from .domain.keys import KeyRing
from .domain.passwords import hash_password
from .domain.tokens import issue_bot_token
from .models import Organisation, Person

#: What a person may not change on their own record (Zou's protected fields).
SELF_PROTECTED = frozenset({
    "role", "active", "archived", "is_bot", "is_guest", "daily_salary", "contract_type", "studio_id",
    "expiration_date", "position", "seniority", "is_generated_from_ldap", "ldap_uid", "shotgun_id",
    "preview_project_id", "preview_opened_at", "preview_open_until",
})
#: Zou's answer to deleting a person that data still names (observed on the oracle).
PERSON_LINKED = "Some data are still linked to given person."
CONTRACT_TYPES = ("open-ended", "fixed-term", "short-term", "freelance", "apprentice", "internship")


#: What a client does not see of the other persons (observed on the oracle).
CLIENT_HIDDEN_PERSON_FIELDS = frozenset({"departments", "studio_id", "desktop_login"})


#: The columns of a non-admin's person listing (:data:`MINIMAL_PERSON_FIELDS` but those made
#: in Python), and the fields clients get.
_MINIMAL_KEYS = tuple(f for f in MINIMAL_PERSON_FIELDS if f not in ("type", "full_name", "departments"))
_MINIMAL_COLUMNS = tuple(getattr(Person, f) for f in _MINIMAL_KEYS)
_CLIENT_FIELDS = tuple(f for f in MINIMAL_PERSON_FIELDS if f not in CLIENT_HIDDEN_PERSON_FIELDS)
#: Every committed insert, change or deletion of a person changes it: a new row version
#: has a new xmin, whatever column changed and whoever wrote it.
_PERSONS_STAMP = CompiledRead(text("SELECT count(*) || '/' || coalesce(sum(xmin::text::bigint), 0) FROM person"))


class PersonHooks(CrudHooks[Person]):
    """Admins manage persons; a person edits their own profile; non-admins read the
    minimal payload. Bots get an API token at creation and when their expiration date
    changes (the previous one is revoked)."""

    def __init__(self, keyring: KeyRing, settings: AuthSettings) -> None:
        self.keyring = keyring
        self.settings = settings

    def list_scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        """Preview accounts are not listed (as Zou); they are read one by one."""
        return stmt.where(Person.preview_project_id.is_(None))

    def filter_params(self, stmt: Select[Any], ctx: CrudContext, params: dict[str, str]) -> Select[Any]:
        """``?full_name=`` as Zou's hybrid property: first and last name, one space apart."""
        if params.get("full_name") is not None:
            stmt = stmt.where(func.concat(Person.first_name, " ", Person.last_name) == params["full_name"])
        return stmt

    async def check_read(self, ctx: CrudContext, instance: Person) -> None:
        """A client reads themself and the people of their open projects' teams (Zou: 403)."""
        if ctx.principal.is_client and instance.id != ctx.principal.id \
                and instance.id not in await project_mates(ctx):
            raise Forbidden()

    async def check_update(self, ctx: CrudContext, instance: Person, data: dict[str, Any]) -> None:
        if not ctx.principal.is_admin and ctx.principal.id != instance.id:
            raise Forbidden()

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: Person | None) -> dict[str, Any]:
        if instance is not None and not ctx.principal.is_admin:
            data = {k: v for k, v in data.items() if k not in SELF_PROTECTED}
        # As Zou, a password given at creation is stored (hashed); afterwards it only
        # changes through the password routes, which also end the person's sessions.
        password = data.pop("password", None)
        if instance is None and password:
            data["password"] = await asyncio.to_thread(hash_password, password)
        role = data.get("role")
        if role is not None and role not in ROLES:
            raise BadRequest("Invalid role", data=None)
        if data.get("contract_type") is not None and data["contract_type"] not in CONTRACT_TYPES:
            raise BadRequest("Invalid contract_type", data=None)
        if "departments" in data:
            ctx.scratch["departments"] = await _checked_departments(ctx, data.pop("departments"))
        if data.get("email"):
            data["email"] = _checked_email(data["email"])
            if await email_taken(ctx.session, email=data["email"], but=instance.id if instance else None):
                raise BadRequest("Email already in use.", data=None)
        return data

    async def post_creation(self, ctx: CrudContext, instance: Person) -> None:
        if "departments" in ctx.scratch:
            await set_departments(ctx.session, person_id=instance.id, ids=ctx.scratch["departments"])
        if instance.is_bot:
            token = issue_bot_token(self.keyring, settings=self.settings, person=instance)
            instance.api_token = token  # type: ignore[attr-defined]

    async def pre_update(self, ctx: CrudContext, instance: Person, data: dict[str, Any]) -> None:
        """A role change or a deactivation ends every session of that person, in every
        service (the revocation is shared through NATS KV)."""
        demoted = "role" in data and data["role"] != instance.role
        deactivated = data.get("active") is False and instance.active
        if demoted or deactivated:
            await revoke_all_tokens(ctx.runtime, person_id=instance.id)
        becomes_bot = data.get("is_bot") is True and not instance.is_bot
        new_expiry = "expiration_date" in data and data["expiration_date"] != instance.expiration_date
        if (instance.is_bot and new_expiry) or becomes_bot:
            ctx.session.info.setdefault("slate_new_bot_tokens", set()).add(instance.id)

    async def post_update(self, ctx: CrudContext, instance: Person, data: dict[str, Any]) -> None:
        if "departments" in ctx.scratch:
            await set_departments(ctx.session, person_id=instance.id, ids=ctx.scratch["departments"])
        if instance.id not in ctx.session.info.get("slate_new_bot_tokens", set()):
            return
        if instance.bot_token_jti:
            await _revoke_jti(ctx.runtime, instance.bot_token_jti)
        token = issue_bot_token(self.keyring, settings=self.settings, person=instance)
        instance.api_token = token  # type: ignore[attr-defined]

    async def pre_delete(self, ctx: CrudContext, instance: Person) -> None:
        if not ctx.scratch.get("force"):
            await refuse_if_linked(ctx, instance.id)
        await revoke_all_tokens(ctx.runtime, person_id=instance.id)

    async def serialize(self, ctx: CrudContext, instance: Person, *, relations: bool) -> dict[str, Any]:
        out = (await serialize_persons(ctx.session, persons=[instance]))[0]
        token = getattr(instance, "api_token", None)
        if token:  # a bot's token is shown once, when it is issued
            out["access_token"] = token
        return out

    async def serialize_one(self, ctx: CrudContext, instance: Person, *, relations: bool) -> dict[str, Any]:
        if ctx.principal.is_manager:  # a manager reads one person whole, as an admin does
            return (await serialize_persons(ctx.session, persons=[instance]))[0]
        return (await self._rows(ctx, [instance], relations=True, listing=False))[0]

    async def serialize_many(
        self, ctx: CrudContext, instances: list[Person], *, relations: bool
    ) -> list[dict[str, Any]]:
        if ctx.principal.is_client:  # Zou lists a client the people of their open projects' teams
            mates = await project_mates(ctx)
            instances = [p for p in instances if p.id in mates]
        return await self._rows(ctx, instances, relations=relations, listing=True)

    def listed_columns(self, ctx: CrudContext, *, relations: bool) -> tuple[Any, ...] | None:
        """A non-admin's listing (the minimal rows, departments empty) from plain rows of
        the columns it shows: no ``Person`` object per person."""
        return None if ctx.principal.is_admin else _MINIMAL_COLUMNS

    def listing_key(self, ctx: CrudContext) -> str:
        """Every caller's listing statement is the same (the scope does not depend on
        them; a client's mates are filtered from the rows): built once."""
        return "persons"

    async def listing_stamp(self, ctx: CrudContext) -> str | None:
        """The minimal rows come from the person table alone: its stamp. Not for a client,
        whose rows depend on their teams (asked of production at each request)."""
        if ctx.principal.is_client:
            return None
        return str((await _PERSONS_STAMP.first(ctx.session))[0])

    async def serialize_rows(self, ctx: CrudContext, rows: Sequence[Any], *, relations: bool) -> list[dict[str, Any]]:
        """:meth:`_rows` of a non-admin's listing (``_fields_of`` of each person, departments
        empty), from the rows of :data:`_MINIMAL_COLUMNS`; a client's only the people of
        their open projects' teams, as :meth:`serialize_many`."""
        fields = _CLIENT_FIELDS if ctx.principal.is_client else MINIMAL_PERSON_FIELDS
        mates = await project_mates(ctx) if ctx.principal.is_client else None  # as serialize_many
        zou_type = Person.zou_type or "Person"
        out = []
        for row in rows:
            values = dict(zip(_MINIMAL_KEYS, row))
            if mates is not None and values["id"] not in mates:
                continue
            answer: dict[str, Any] = {}
            for key in fields:
                if key == "departments":
                    answer[key] = []
                elif key == "type":
                    answer[key] = zou_type
                elif key == "full_name":
                    answer[key] = f"{values['first_name']} {values['last_name']}".strip()  # Person.full_name
                else:
                    answer[key] = serialize_value(values[key])
            out.append(answer)
        return out

    async def _rows(self, ctx: CrudContext, instances: list[Person], *, relations: bool,
                    listing: bool) -> list[dict[str, Any]]:
        """Zou's rows: whole for admins; minimal for the others, without the departments,
        studio and desktop login for clients; minimal rows of a listing carry an empty
        ``departments`` list (observed on the oracle for every non-admin role)."""
        minimal = not ctx.principal.is_admin
        fields: tuple[str, ...] | None = MINIMAL_PERSON_FIELDS if minimal else None
        if ctx.principal.is_client:
            fields = _CLIENT_FIELDS
        # minimal rows of a listing and full rows without relations answer no
        # departments: not read
        rows = await serialize_persons(ctx.session, persons=instances, fields=fields,
                                       departments=(minimal or relations) and not (minimal and listing))
        if not minimal and not relations:
            # Zou's full rows list departments only with ?relations=true (its minimal
            # rows and a single person always carry them).
            for row in rows:
                row.pop("departments", None)
        if minimal and listing:
            for row in rows:
                if "departments" in row:
                    row["departments"] = []
        return rows

    async def event_snapshot(self, ctx: CrudContext, instance: Person) -> dict[str, Any]:
        return await person_snapshot(ctx.session, person=instance)


async def project_mates(ctx: CrudContext) -> set[uuid.UUID]:
    """The people of the teams of the caller's open projects, asked of production (which
    holds the teams) at the time of the request, so a team change answered before is seen."""
    nc = getattr(ctx.runtime, "nc", None)
    if nc is None:
        raise ServiceUnavailable("Cannot read the project teams (the event bus is not connected); retry.")
    try:
        answer = await bus.request(nc, "production", "project-mates", {"person_id": str(ctx.principal.id)},
                                   timeout=5.0)
    except SlateError as exc:
        raise ServiceUnavailable(f"Cannot read the project teams ({exc.message}); retry.") from exc
    return {uuid.UUID(i) for i in answer.get("person_ids", [])}


async def refuse_if_linked(ctx: CrudContext, person_id: uuid.UUID) -> None:
    """Zou refuses to delete a person something still names (a team, an assignment, a
    comment...) unless ``force=true``; production holds those, so it is asked, at the
    time of the request (a team change answered before is seen). Without an answer the
    delete is refused too: a person is not deleted blind."""
    nc = getattr(ctx.runtime, "nc", None)
    if nc is None:
        raise ServiceUnavailable("Cannot check what links to this person (the event bus is not connected);"
                                 " retry, or delete with force=true.")
    try:
        answer = await bus.request(nc, "production", "person-links", {"person_id": str(person_id)}, timeout=5.0)
    except SlateError as exc:
        raise ServiceUnavailable(
            f"Cannot check what links to this person ({exc.message}); retry, or delete with force=true."
        ) from exc
    if answer.get("links"):
        raise BadRequest(PERSON_LINKED)


def _checked_email(raw: str) -> str:
    try:
        # test_environment: addresses under .test (local setups, tests) are accepted
        validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise BadRequest(str(exc), data=None) from exc
    return raw.strip()


async def _revoke_jti(runtime: Any, jti: str) -> None:
    kv = await revocation_bucket(runtime.js)
    await revoke_token(kv, jti)
    runtime.verifier.revocations.jtis[jti] = time.time()


ORGANISATION_SECRETS = frozenset({"chat_token_slack", "chat_webhook_mattermost", "chat_token_discord"})


class DuplicateRecord(BadRequest):
    """Zou's answer to a row that breaks a unique constraint: ``{"message": ...}`` alone."""

    default_message = "A record with the same unique values already exists."

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


class OrganisationHooks(CrudHooks[Organisation]):
    """Chat tokens are for admins' eyes only; organisation names are unique (as Zou's)."""

    async def check_creation_integrity(self, ctx: CrudContext, data: dict[str, Any]) -> dict[str, Any]:
        name = data.get("name") or "Kitsu"
        if await ctx.session.scalar(select(Organisation.id).where(Organisation.name == name).limit(1)) is not None:
            raise DuplicateRecord()
        return data

    async def serialize(self, ctx: CrudContext, instance: Organisation, *, relations: bool) -> dict[str, Any]:
        exclude = frozenset() if ctx.principal.is_admin else ORGANISATION_SECRETS
        return instance.serialize(exclude=exclude)


async def _checked_departments(ctx: CrudContext, raw: Any) -> list[uuid.UUID]:
    """A person's ``departments`` as Zou takes them: a list of ids, a malformed one refused
    (Zou's 400), one naming no department left out (as the oracle does)."""
    invalid = InvalidFormat()
    if not isinstance(raw, list):
        raise invalid
    try:
        ids = list(dict.fromkeys(uuid.UUID(str(value)) for value in raw))
    except ValueError as exc:
        raise invalid from exc
    known = await existing_departments(ctx.session, ids=ids)
    return [i for i in ids if i in known]
