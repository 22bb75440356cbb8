"""FIDO2/WebAuthn second factor (Yubico's ``fido2`` relying-party server).

Registration: ``registration_options`` (PUT /auth/fido) stores a challenge for the
person; ``register_device`` (POST) checks the authenticator's response against it and
keeps the credential under a device name. Login: ``authentication_options`` (GET
/auth/fido?email=) stores a challenge; ``verify_assertion`` checks a signed response
against the person's credentials.

A challenge is used once (deleted when checked, even when the check fails), found by
its value (a new one never voids another pending one) and carries
the relying-party settings it was issued under, so checking needs no settings. A
signature counter that does not grow is refused (a cloned authenticator).

Credentials live in the person's hidden ``fido_credentials`` column, a list of
``{"device_name", "credential_id", "credential_data", "sign_count", "created_at"}``
(ids and data base64url); disabling 2FA clears it. Only device names are ever shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fido2.server import Fido2Server, verify_rp_id
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorAttachment,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest
from slate_common.logging import get_logger
from slate_common.serialization import now

from ..models import FidoChallenge, Person
from ..sso_settings import SsoSettings

log = get_logger(__name__)

REGISTER, AUTHENTICATE = "register", "authenticate"
#: COSE algorithms offered at registration: ES256, EdDSA, ES384, ES512, PS256, RS256, ES256K.
ALGORITHMS = (-7, -8, -35, -36, -37, -257, -47)
OTHER_SECOND_FACTORS = ("totp", "email_otp")


class FidoNotEnabled(BadRequest):
    default_message = "FIDO not enabled."


def _rp(settings: SsoSettings) -> dict[str, str]:
    return {"id": settings.effective_fido_rp_id, "name": settings.fido_rp_name, "origin": settings.public_origin}


def _server(rp: dict[str, str]) -> Fido2Server:
    def verify_origin(origin: str) -> bool:
        return origin == rp["origin"] or verify_rp_id(rp["id"], origin)

    fido = Fido2Server(PublicKeyCredentialRpEntity(name=rp["name"], id=rp["id"]), verify_origin=verify_origin)
    fido.allowed_algorithms = [
        PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=alg) for alg in ALGORITHMS
    ]
    return fido


def stored_credentials(person: Person) -> list[dict[str, Any]]:
    return [dict(c) for c in (person.fido_credentials or []) if isinstance(c, dict)]


def device_names(person: Person) -> list[str]:
    """What Zou shows of a person's devices (``fido_devices``): their names."""
    return [str(c.get("device_name", "")) for c in stored_credentials(person)]


def _attested(person: Person) -> list[AttestedCredentialData]:
    return [AttestedCredentialData(websafe_decode(c["credential_data"])) for c in stored_credentials(person)]


#: Pending challenges kept per person and purpose (older ones are dropped).
MAX_PENDING = 5


async def _save_challenge(session: AsyncSession, *, person: Person, purpose: str, state: dict[str, Any],
                          rp: dict[str, str], lifetime: int) -> None:
    mine = (FidoChallenge.person_id == person.id) & (FidoChallenge.purpose == purpose)
    await session.execute(delete(FidoChallenge).where(mine, FidoChallenge.expires_at <= now()))
    keep = select(FidoChallenge.challenge).where(mine).order_by(FidoChallenge.expires_at.desc()).limit(MAX_PENDING - 1)
    await session.execute(delete(FidoChallenge).where(mine, FidoChallenge.challenge.not_in(keep)))
    uv = state.get("user_verification")
    session.add(FidoChallenge(
        challenge=state["challenge"], person_id=person.id, purpose=purpose,
        state={"challenge": state["challenge"], "user_verification": getattr(uv, "value", uv), "rp": rp},
        expires_at=now() + dt.timedelta(seconds=lifetime),
    ))
    await session.flush()


async def _take_challenge(session: AsyncSession, *, person: Person, purpose: str, challenge: bytes
                          ) -> dict[str, Any] | None:
    """The pending challenge the response answers, deleted: it can be checked only once."""
    row = (await session.execute(
        delete(FidoChallenge)
        .where(FidoChallenge.challenge == websafe_encode(challenge), FidoChallenge.person_id == person.id,
               FidoChallenge.purpose == purpose, FidoChallenge.expires_at > now())
        .returning(FidoChallenge.state)
    )).first()
    return dict(row.state) if row is not None else None


async def registration_options(session: AsyncSession, *, settings: SsoSettings, person: Person) -> dict[str, Any]:
    """WebAuthn creation options for a new device of ``person`` (the devices it has
    already are excluded)."""
    rp = _rp(settings)
    options, state = _server(rp).register_begin(
        PublicKeyCredentialUserEntity(name=person.email or str(person.id), id=str(person.id).encode(),
                                      display_name=person.full_name),
        _attested(person),
        authenticator_attachment=AuthenticatorAttachment.CROSS_PLATFORM,
        resident_key_requirement=ResidentKeyRequirement.DISCOURAGED,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    await _save_challenge(session, person=person, purpose=REGISTER, state=state, rp=rp,
                          lifetime=settings.sso_state_seconds)
    return dict(options)["publicKey"]  # type: ignore[no-any-return]


async def register_device(session: AsyncSession, *, person: Person, device_name: str, response: dict[str, Any]) -> None:
    """Check the authenticator's registration response against the pending challenge
    and keep its credential under ``device_name``; FIDO is then on for the person."""
    try:
        parsed = RegistrationResponse.from_dict(response)
    except Exception as exc:  # not a WebAuthn registration response at all
        raise BadRequest("FIDO registration failed: the registration response is invalid.") from exc
    state = await _take_challenge(session, person=person, purpose=REGISTER,
                                  challenge=parsed.response.client_data.challenge)
    if state is None:
        raise BadRequest("No FIDO registration was started (or it expired): ask for registration options first.")
    try:
        auth_data = _server(state.pop("rp")).register_complete(state, parsed)
    except Exception as exc:  # fido2 raises ValueError, KeyError, TypeError, InvalidSignature...
        log.info("fido_registration_refused", reason=type(exc).__name__, detail=str(exc)[:200])
        raise BadRequest("FIDO registration failed: the registration response is invalid.") from exc
    credential = auth_data.credential_data
    assert credential is not None  # register_complete guarantees attested credential data
    existing = stored_credentials(person)
    if any(c.get("device_name") == device_name for c in existing):
        raise BadRequest("A FIDO device with this name is already registered.")
    credential_id = websafe_encode(credential.credential_id)
    if any(c.get("credential_id") == credential_id for c in existing):
        raise BadRequest("This FIDO device is already registered.")
    person.fido_credentials = [*existing, {
        "device_name": device_name,
        "credential_id": credential_id,
        "credential_data": websafe_encode(bytes(credential)),
        "sign_count": auth_data.counter,
        "created_at": now().isoformat(timespec="seconds"),
    }]
    await session.flush()


async def authentication_options(session: AsyncSession, *, settings: SsoSettings, person: Person | None
                                 ) -> dict[str, Any]:
    """WebAuthn request options (a challenge) for logging ``person`` in with a device."""
    if person is None or not person.fido_enabled or not stored_credentials(person):
        raise FidoNotEnabled()
    rp = _rp(settings)
    options, state = _server(rp).authenticate_begin(_attested(person))
    await _save_challenge(session, person=person, purpose=AUTHENTICATE, state=state, rp=rp,
                          lifetime=settings.sso_state_seconds)
    return dict(options)["publicKey"]  # type: ignore[no-any-return]


async def verify_assertion(session: AsyncSession, *, person: Person, response: dict[str, Any] | None) -> bool:
    """True when ``response`` is a valid signature, by one of the person's devices, of a
    challenge given to them and not used yet; that challenge is spent either way."""
    if not isinstance(response, dict) or not person.fido_enabled:
        return False
    try:
        parsed = AuthenticationResponse.from_dict(response)
    except Exception:  # noqa: BLE001 - not a WebAuthn assertion at all (fido2 raises many types)
        return False
    state = await _take_challenge(session, person=person, purpose=AUTHENTICATE,
                                  challenge=parsed.response.client_data.challenge)
    if state is None:
        return False
    try:
        used = _server(state.pop("rp")).authenticate_complete(state, _attested(person), parsed)
    except Exception as exc:  # noqa: BLE001 - a wrong signature, origin, rp id, challenge, or malformed data
        log.info("fido_assertion_refused", reason=type(exc).__name__, detail=str(exc)[:200])
        return False
    credentials = stored_credentials(person)
    used_id = websafe_encode(used.credential_id)
    device = next(c for c in credentials if c["credential_id"] == used_id)
    counter, last = parsed.response.authenticator_data.counter, int(device.get("sign_count") or 0)
    if (counter or last) and counter <= last:
        log.warning("fido_counter_not_increasing", person_id=str(person.id), device=device.get("device_name"))
        return False
    device["sign_count"] = counter
    person.fido_credentials = credentials
    await session.flush()
    return True


def unregister_device(person: Person, *, device_name: str) -> None:
    """Forget the named device (no error when there is none, as Zou). With no device
    left, FIDO is off for the person."""
    person.fido_credentials = [c for c in stored_credentials(person) if c.get("device_name") != device_name]
