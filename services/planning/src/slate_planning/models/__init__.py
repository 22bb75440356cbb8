from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base
from .replicas import ProjectReplica

__all__ = ["Base", "InboxEvent", "OutboxEvent", "ProjectReplica"]
