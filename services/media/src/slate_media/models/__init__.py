from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base

__all__ = ["Base", "InboxEvent", "OutboxEvent"]
