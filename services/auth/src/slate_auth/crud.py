"""The /data models auth owns: one line each."""

from slate_common.crud import CrudSpec

from .hooks import PersonHooks
from .models import Department, Organisation, Person

SPECS = [
    CrudSpec(Person, "persons", hooks=PersonHooks()),
    CrudSpec(Department, "departments"),
    CrudSpec(Organisation, "organisations"),
]
