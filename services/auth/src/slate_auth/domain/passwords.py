"""Password hashing with argon2id; verification takes the same time for unknown users."""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: argon2id with the library's defaults (RFC 9106's low-memory profile): the least cost
#: SLATE_ENV=production accepts.
DEFAULT_HASHER = PasswordHasher()


class _Hashing:
    """The hasher of new hashes, and a hash of its cost for unknown users (a stored hash
    carries its own cost and verifies at it), made at the first need of it."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher

    @cached_property
    def dummy(self) -> str:
        return self.hasher.hash("slate-timing-equaliser")


_hashing = _Hashing(DEFAULT_HASHER)


def configure_hashing(*, time_cost: int, memory_kib: int, parallelism: int, production: bool) -> None:
    """The cost of new hashes (``AuthSettings.password_hash_*``); less than the default is
    refused in production (the tests lower it: the KDF's cost is not what they test)."""
    global _hashing  # noqa: PLW0603 - one cost per process, set from its settings
    if production and (time_cost < DEFAULT_HASHER.time_cost or memory_kib < DEFAULT_HASHER.memory_cost):
        raise RuntimeError("SLATE_ENV=production refuses a password hash cheaper than argon2id's defaults "
                           "(SLATE_AUTH_PASSWORD_HASH_TIME_COST, SLATE_AUTH_PASSWORD_HASH_MEMORY_KIB)")
    current = _hashing.hasher
    if (current.time_cost, current.memory_cost, current.parallelism) == (time_cost, memory_kib, parallelism):
        return
    _hashing = _Hashing(PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism))


def hash_password(password: str) -> str:
    return _hashing.hasher.hash(password)


def verify_password(stored: str | None, *, password: str) -> bool:
    """True when ``password`` matches; runs a full verification even without a hash."""
    hashing = _hashing
    try:
        return hashing.hasher.verify(stored or hashing.dummy, password) and stored is not None
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
