from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base

from .identity import (
    AppLoginCode, Department, DesktopLoginLog, LoginLog, Organisation, Person, RefreshToken, SigningKey, Studio,
    person_department,
)

__all__ = [
    "AppLoginCode", "Base", "Department", "DesktopLoginLog", "InboxEvent", "LoginLog", "Organisation",
    "OutboxEvent", "Person", "RefreshToken", "SigningKey", "Studio", "person_department",
]
