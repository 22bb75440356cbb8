"""/auth/fido: FIDO2/WebAuthn devices as a second factor, in Zou's shapes.

PUT gives registration options, POST registers a device under a name, DELETE forgets
one (with a second factor), GET ?email= gives a login challenge. A person's devices are
listed by name in ``fido_devices`` of /auth/authenticated.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest
from slate_common.params import invalid_field
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import fido, two_factor
from ..domain.identity import active_person_by_email, emit_person_update, get_person
from .deps import Keys, Settings
from .two_factor import ProofBody, _enabled_answer, _verify_proof

router = APIRouter(tags=["Authentication"])


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    registration_response: dict[str, Any]
    device_name: str = Field(min_length=1, max_length=80)


class UnregisterBody(ProofBody):
    device_name: str = Field(min_length=1, max_length=80)


@router.get("/auth/fido")
async def login_challenge(request: Request, session: SessionDep, settings: Settings,
                          email: str | None = None) -> Response:
    """A WebAuthn challenge to log in with one of the person's devices."""
    if not email:
        raise BadRequest("Missing required parameter: email", data=None)
    from .auth import request_refused  # the login guard counts this unauthenticated route too

    if refused := await request_refused(request, "fido-challenge", email):
        return refused
    person = await active_person_by_email(session, email=email)
    return json_response(await fido.authentication_options(session, settings=settings, person=person))


@router.put("/auth/fido")
async def registration_options(principal: CurrentUser, session: SessionDep, settings: Settings) -> Response:
    """WebAuthn options to create a credential on a new device."""
    person = await get_person(session, person_id=principal.id, lock=True)
    return json_response(await fido.registration_options(session, settings=settings, person=person))


@router.post("/auth/fido")
async def register(body: RegisterBody, principal: CurrentUser, session: SessionDep, keys: Keys,
                   settings: Settings) -> Response:
    """Register the device that answered the options (recovery codes on the first 2FA)."""
    person = await get_person(session, person_id=principal.id, lock=True)
    await fido.register_device(session, person=person, device_name=body.device_name,
                               response=body.registration_response)
    codes = two_factor.enable(person, method="fido") if not person.fido_enabled else None
    return await _enabled_answer(session, keys, settings, person, codes)


@router.delete("/auth/fido")
async def unregister(request: Request, principal: CurrentUser, session: SessionDep,
                     body: UnregisterBody | None = None) -> Response:
    """Forget a device; needs a second factor. Without devices left, FIDO is off."""
    if body is None:  # no body at all: the field it lacks, named as for an empty one
        raise invalid_field("device_name")
    person = await get_person(session, person_id=principal.id, lock=True)
    if not person.fido_enabled:
        raise fido.FidoNotEnabled()
    await _verify_proof(request, session, person, body)
    fido.unregister_device(person, device_name=body.device_name)
    if not fido.stored_credentials(person):
        two_factor.disable(person, method="fido")
    await emit_person_update(session, person=person, actor_id=person.id)
    return json_response({"success": True})
