"""Password hashing with argon2id; verification takes the same time for unknown users."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
_DUMMY = _hasher.hash("slate-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, *, password: str) -> bool:
    """True when ``password`` matches; runs a full verification even without a hash."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


MIN_LENGTH = 8


def check_new_password(password: str, *, confirmation: str) -> None:
    """Zou's rule for a new password: at least 8 characters, confirmed."""
    from slate_common.errors import BadRequest

    if len(password) < MIN_LENGTH:
        raise BadRequest("Password is too short.")
    if password != confirmation:
        raise BadRequest("Confirmation password doesn't match.")
