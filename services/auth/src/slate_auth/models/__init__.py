from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base
from .fido import FidoChallenge
from .identity import (
    AppLoginCode,
    Department,
    DesktopLoginLog,
    LoginLog,
    Organisation,
    Person,
    RefreshToken,
    SigningKey,
    Studio,
    person_department,
)
from .seed import ReferenceSeed
from .sso import SsoIdentity, SsoState

__all__ = [
    "AppLoginCode", "Base", "Department", "DesktopLoginLog", "FidoChallenge", "InboxEvent", "LoginLog",
    "Organisation", "OutboxEvent", "Person", "ReferenceSeed", "RefreshToken", "SigningKey", "SsoIdentity", "SsoState", "Studio",
    "person_department",
]
