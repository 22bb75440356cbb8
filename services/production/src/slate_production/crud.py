"""The /data models production owns, one line each, with their hooks (hooks.py)."""

from typing import Any

from slate_common.crud import CrudSpec

from .hooks import (
                    AdminOnlyHooks,
                    CommentFlowRowHooks,
                    EntityHooks,
                    EntityLinkHooks,
                    EntityTypeHooks,
                    ProjectHooks,
                    TaskHooks,
                    TaskStatusHooks,
                    TaskTypeHooks,
)
from .models import (
                    Entity,
                    EntityLink,
                    EntityType,
                    News,
                    Notification,
                    Project,
                    ProjectStatus,
                    SearchFilter,
                    SearchFilterGroup,
                    Subscription,
                    Task,
                    TaskStatus,
                    TaskType,
)

SPECS: list[CrudSpec[Any]] = [
    CrudSpec(Project, "projects", hooks=ProjectHooks(), default_relations_one=True),
    CrudSpec(ProjectStatus, "project-status", event_name="project-status"),
    CrudSpec(EntityType, "entity-types", hooks=EntityTypeHooks(), event_name="entity-type"),
    CrudSpec(TaskType, "task-types", hooks=TaskTypeHooks(), event_name="task-type"),
    CrudSpec(TaskStatus, "task-status", hooks=TaskStatusHooks(), event_name="task-status"),
    CrudSpec(Task, "tasks", hooks=TaskHooks(), default_relations_one=True, relations=frozenset({"assignees"})),
    CrudSpec(Entity, "entities", hooks=EntityHooks(), event_name="entity"),
    # The comment flow's rows: admin-only generic routes.
    CrudSpec(Notification, "notifications", hooks=CommentFlowRowHooks()),
    CrudSpec(Subscription, "subscriptions", hooks=CommentFlowRowHooks()),
    CrudSpec(SearchFilter, "search-filters", hooks=AdminOnlyHooks(), event_name="search-filter"),
    CrudSpec(SearchFilterGroup, "search-filter-groups", hooks=AdminOnlyHooks(), event_name="search-filter-group"),
    CrudSpec(News, "news", hooks=CommentFlowRowHooks(), event_name="news"),
    CrudSpec(EntityLink, "entity-links", hooks=EntityLinkHooks()),
]
