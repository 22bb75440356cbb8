from slate_common.db import Base
from slate_common.events.models import InboxEvent, OutboxEvent

from .replicas import ProjectReplica

__all__ = ["Base", "InboxEvent", "OutboxEvent", "ProjectReplica"]
