"""The /data models production owns: one line each."""

from slate_common.crud import CrudSpec

from .hooks import EntityHooks, EntityTypeHooks, ProjectHooks, TaskHooks, TaskStatusHooks, TaskTypeHooks
from .models import Entity, EntityType, Project, ProjectStatus, Task, TaskStatus, TaskType

SPECS = [
    CrudSpec(Project, "projects", hooks=ProjectHooks(), default_relations_one=True),
    CrudSpec(ProjectStatus, "project-status", event_name="project-status"),
    CrudSpec(EntityType, "entity-types", hooks=EntityTypeHooks(), event_name="entity-type"),
    CrudSpec(TaskType, "task-types", hooks=TaskTypeHooks(), event_name="task-type"),
    CrudSpec(TaskStatus, "task-status", hooks=TaskStatusHooks(), event_name="task-status"),
    CrudSpec(Task, "tasks", hooks=TaskHooks(), default_relations_one=True, relations=frozenset({"assignees"})),
    CrudSpec(Entity, "entities", hooks=EntityHooks(), event_name="entity"),
]
