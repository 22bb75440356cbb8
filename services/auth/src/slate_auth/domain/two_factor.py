"""Second factors: TOTP, emailed one-time codes, recovery codes (and FIDO, through
:func:`verify_fido`, in :mod:`.fido`).

Login asks :func:`check_second_factor` once the password is right. The proofs a client
may send are the fields of :class:`SecondFactorProof` (Zou's login body); a proof for a
method the person has not enabled is ignored, so it counts as missing. Secrets stay in
hidden columns: the TOTP secret, a keyed hash of the pending emailed code, hashes of
recovery codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.serialization import now

from ..models import Person
from . import fido

#: The methods a person can enable, in the order Zou lists them.
METHODS = ("totp", "email_otp", "fido")
RECOVERY_CODE_COUNT = 16
RECOVERY_CODE_LENGTH = 10
_RECOVERY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class SecondFactorProof:
    """What a client sent as a second factor (any of them may be absent)."""

    totp: str | None = None
    email_otp: str | None = None
    recovery_code: str | None = None
    fido_authentication_response: dict[str, Any] | None = None

    @classmethod
    def of(cls, body: Any) -> SecondFactorProof:
        return cls(
            totp=getattr(body, "totp", None),
            email_otp=getattr(body, "email_otp", None),
            recovery_code=getattr(body, "recovery_code", None),
            fido_authentication_response=getattr(body, "fido_authentication_response", None),
        )


class Outcome(Enum):
    NOT_REQUIRED = "not_required"  # no second factor enabled
    MISSING = "missing"  # enabled, but no proof for an enabled method was sent
    WRONG = "wrong"
    OK = "ok"


def is_enabled(person: Person, *, method: str) -> bool:
    return bool(getattr(person, f"{method}_enabled", False))


def has_two_factor(person: Person) -> bool:
    return any(is_enabled(person, method=m) for m in METHODS)


def enabled_methods(person: Person) -> list[str]:
    """Zou's ``two_factor_authentication_enabled``: recovery codes first, then each method."""
    if not has_two_factor(person):
        return []
    return ["recovery_code", *(m for m in METHODS if is_enabled(person, method=m))]


async def check_second_factor(
    session: AsyncSession, *, person: Person, proof: SecondFactorProof, secret_key: str
) -> Outcome:
    """Verify the second factor of ``person``; spends one-time proofs (an emailed code, a
    recovery code) on success. FIDO is verified by :func:`verify_fido`."""
    if not has_two_factor(person):
        return Outcome.NOT_REQUIRED
    if proof.totp and person.totp_enabled:
        return Outcome.OK if verify_totp(person, code=proof.totp) else Outcome.WRONG
    if proof.email_otp and person.email_otp_enabled:
        return Outcome.OK if verify_email_otp(person, code=proof.email_otp, secret_key=secret_key) else Outcome.WRONG
    if proof.fido_authentication_response and person.fido_enabled:
        ok = await verify_fido(session, person=person, response=proof.fido_authentication_response)
        return Outcome.OK if ok else Outcome.WRONG
    if proof.recovery_code:
        return Outcome.OK if use_recovery_code(person, code=proof.recovery_code) else Outcome.WRONG
    return Outcome.MISSING


# --- FIDO: the place where WebAuthn plugs in ----------------------------------------------


async def verify_fido(session: AsyncSession, *, person: Person, response: dict[str, Any]) -> bool:
    """Verify a WebAuthn assertion (``fido_authentication_response``) for ``person``."""
    return await fido.verify_assertion(session, person=person, response=response)


async def fido_login_options(session: AsyncSession, *, person: Person) -> dict[str, Any]:
    """Extra keys of the "second factor missing" login answer when FIDO is enabled: none,
    as Zou (the client asks GET /auth/fido?email= for a WebAuthn challenge)."""
    return {}


async def missing_answer(session: AsyncSession, *, person: Person) -> dict[str, Any]:
    """The body of Zou's 400 answer to a login whose second factor is missing."""
    body: dict[str, Any] = {
        "error": True,
        "login": False,
        "missing_OTP": True,
        "message": "A two-factor authentication code is required.",
        "preferred_two_factor_authentication": person.preferred_two_factor_authentication,
        "two_factor_authentication_enabled": enabled_methods(person),
    }
    if person.fido_enabled:
        body.update(await fido_login_options(session, person=person))
    return body


WRONG_ANSWER = {"error": True, "login": False, "wrong_OTP": True, "message": "Wrong two-factor authentication code."}


# --- TOTP ------------------------------------------------------------------------------


def new_totp_secret(person: Person) -> str:
    person.totp_secret = pyotp.random_base32(32)
    return person.totp_secret


def provisioning_uri(person: Person, *, issuer: str) -> str:
    assert person.totp_secret
    return pyotp.TOTP(person.totp_secret).provisioning_uri(name=person.email or str(person.id), issuer_name=issuer)


def verify_totp(person: Person, *, code: str) -> bool:
    if not person.totp_secret:
        return False
    return bool(pyotp.TOTP(person.totp_secret).verify(code.strip(), valid_window=1))


# --- emailed codes ---------------------------------------------------------------------------


def _code_hash(person: Person, code: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), f"{person.id}:{code.strip()}".encode(), hashlib.sha256).hexdigest()


def new_email_otp(person: Person, *, secret_key: str, minutes: int) -> str:
    """A fresh 6-digit code for ``person`` (replacing a pending one); returns it to mail."""
    code = f"{secrets.randbelow(10**6):06d}"
    person.email_otp_code = _code_hash(person, code, secret_key)
    person.email_otp_expires_at = now() + dt.timedelta(minutes=minutes)
    return code


def verify_email_otp(person: Person, *, code: str, secret_key: str) -> bool:
    """True for the pending, unexpired code, which is then spent."""
    pending, until = person.email_otp_code, person.email_otp_expires_at
    if not pending or until is None or until < now():
        return False
    if not hmac.compare_digest(pending, _code_hash(person, code, secret_key)):
        return False
    person.email_otp_code = None
    person.email_otp_expires_at = None
    return True


# --- recovery codes ------------------------------------------------------------------------


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_recovery_codes(person: Person) -> list[str]:
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    person.recovery_codes = [_recovery_hash(c) for c in codes]
    return codes


def use_recovery_code(person: Person, *, code: str) -> bool:
    """True when ``code`` is one of the person's unused codes, which is then spent."""
    wanted = _recovery_hash(code)
    stored = list(person.recovery_codes or [])
    for i, candidate in enumerate(stored):
        if hmac.compare_digest(candidate, wanted):
            del stored[i]
            person.recovery_codes = stored
            return True
    return False


# --- enabling and disabling ------------------------------------------------------------------


def enable(person: Person, *, method: str) -> list[str] | None:
    """Turn ``method`` on; the first method enabled also creates recovery codes (returned)."""
    first = not has_two_factor(person)
    setattr(person, f"{method}_enabled", True)
    if person.preferred_two_factor_authentication is None:
        person.preferred_two_factor_authentication = method
    return new_recovery_codes(person) if first else None


def disable(person: Person, *, method: str) -> None:
    setattr(person, f"{method}_enabled", False)
    if method == "totp":
        person.totp_secret = None
    elif method == "email_otp":
        person.email_otp_code = None
        person.email_otp_expires_at = None
    elif method == "fido":
        person.fido_credentials = None
    if person.preferred_two_factor_authentication == method:
        person.preferred_two_factor_authentication = next((m for m in METHODS if is_enabled(person, method=m)), None)
    if not has_two_factor(person):
        person.recovery_codes = None


def disable_all(person: Person) -> None:
    for method in METHODS:
        disable(person, method=method)
