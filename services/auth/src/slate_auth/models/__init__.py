from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base

from .identity import Department, Organisation, Person, SigningKey, person_department

__all__ = [
    "Base", "Department", "InboxEvent", "Organisation", "OutboxEvent", "Person",
    "SigningKey", "person_department",
]
