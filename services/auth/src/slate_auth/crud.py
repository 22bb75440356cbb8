"""The /data models auth owns: one line each."""

from typing import Any

from slate_common.crud import CrudSpec

from .config import AuthSettings
from .domain.keys import KeyRing
from .hooks import OrganisationHooks, PersonHooks
from .models import Department, Organisation, Person, Studio

#: Two-factor state and secrets belong to the /auth routes, never to CRUD bodies.
PERSON_READONLY = frozenset({"totp_enabled", "email_otp_enabled", "fido_enabled",
                             "preferred_two_factor_authentication"})


def specs(keyring: KeyRing, settings: AuthSettings) -> list[CrudSpec[Any]]:
    return [
        CrudSpec(Person, "persons", hooks=PersonHooks(keyring, settings), readonly=PERSON_READONLY,
                 write_only=frozenset({"password"}), relations=frozenset({"departments"})),
        CrudSpec(Department, "departments"),
        CrudSpec(Organisation, "organisations", hooks=OrganisationHooks()),
        CrudSpec(Studio, "studios"),
    ]
