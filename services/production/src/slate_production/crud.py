"""The /data models production owns: one line each."""

from slate_common.crud import CrudSpec

from .hooks import ProjectHooks
from .models import Project, ProjectStatus

SPECS = [
    CrudSpec(Project, "projects", hooks=ProjectHooks(), default_relations_one=True),
    CrudSpec(ProjectStatus, "project-status", event_name="project-status"),
]
