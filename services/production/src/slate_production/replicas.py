"""What production replicates from other services (``slate_common.replica``): auth's
persons, departments and studios, media's preview and attachment files."""

from __future__ import annotations

from slate_common.replica import Replica

from .domain.defaults import link_task_types_to_department
from .domain.people import link_departments, person_columns, remove_person_links
from .domain.previews import follow_task_preview
from .models import AttachmentFileReplica, Department, Person, PreviewFileReplica, Studio

PERSONS = Replica(Person, "person", "auth", columns=person_columns, after_upsert=link_departments,
                  after_remove=remove_person_links)
DEPARTMENTS = Replica(Department, "department", "auth", after_upsert=link_task_types_to_department)
STUDIOS = Replica(Studio, "studio", "auth")
PREVIEWS = Replica(PreviewFileReplica, "preview-file", "media", verbs=("add-file",), after_upsert=follow_task_preview)
ATTACHMENTS = Replica(AttachmentFileReplica, "attachment-file", "media")

REPLICAS: list[Replica] = [PERSONS, DEPARTMENTS, STUDIOS, PREVIEWS, ATTACHMENTS]
