from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base

from .project import Project, ProjectStatus, project_person_link

__all__ = ["Base", "InboxEvent", "OutboxEvent", "Project", "ProjectStatus", "project_person_link"]
