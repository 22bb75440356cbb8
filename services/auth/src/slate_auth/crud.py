"""The /data models auth owns: one line each."""

from slate_common.crud import CrudSpec

from .hooks import PersonHooks
from .models import Department, Organisation, Person

SPECS = [
    CrudSpec(Person, "persons", hooks=PersonHooks(), readonly=frozenset(
        {"totp_enabled", "email_otp_enabled", "fido_enabled", "preferred_two_factor_authentication"})),
    CrudSpec(Department, "departments"),
    CrudSpec(Organisation, "organisations"),
]
