from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base

from .identity import Department, Organisation, Person, SigningKey, person_department
from .fido import FidoChallenge
from .sso import SsoIdentity, SsoState

__all__ = [
    "Base", "Department", "FidoChallenge", "SsoIdentity", "SsoState", "InboxEvent", "Organisation", "OutboxEvent", "Person",
    "SigningKey", "person_department",
]
