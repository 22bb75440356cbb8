from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base
from .casting import EntityLink, entity_concept_link
from .comment import (
    Comment,
    News,
    comment_acknowledgement_link,
    comment_department_mention_link,
    comment_mention_link,
)
from .entity import TEMPORAL_TYPES, Entity, EntityType, EntityVersion, entity_type_task_type_link
from .notification import Notification, Subscription
from .people import Department, Person, Studio, department_person_link
from .preview import AttachmentFileReplica, PreviewFileReplica
from .project import (
    Project,
    ProjectStatus,
    ProjectTaskStatusLink,
    ProjectTaskTypeLink,
    project_asset_type_link,
    project_person_link,
)
from .search_filter import SearchFilter, SearchFilterGroup
from .seed import PendingTaskTypeDepartment, ReferenceSeed
from .task import Task, TaskStatus, TaskType, task_person_link

__all__ = [
    "PendingTaskTypeDepartment",
    "ReferenceSeed",
    "AttachmentFileReplica",
    "Comment",
    "News",
    "Notification",
    "PreviewFileReplica",
    "SearchFilter",
    "SearchFilterGroup",
    "Studio",
    "Subscription",
    "comment_acknowledgement_link",
    "comment_department_mention_link",
    "comment_mention_link",
    "TEMPORAL_TYPES",
    "Base",
    "Department",
    "Entity",
    "EntityType",
    "EntityVersion",
    "InboxEvent",
    "OutboxEvent",
    "Person",
    "Project",
    "ProjectStatus",
    "ProjectTaskStatusLink",
    "ProjectTaskTypeLink",
    "Task",
    "TaskStatus",
    "TaskType",
    "department_person_link",
    "entity_type_task_type_link",
    "project_asset_type_link",
    "project_person_link",
    "task_person_link",
]
