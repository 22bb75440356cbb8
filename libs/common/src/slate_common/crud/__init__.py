"""The generic CRUD engine: Zou's five /data routes for a model from a small spec.

    CrudSpec(Project, "projects", hooks=ProjectHooks())

serves ``GET /data/projects`` (Zou's query-string filters, ``page``/``limit``
envelope), ``POST /data/projects``, ``GET|PUT|DELETE /data/projects/{instance_id}``
with validation derived from the model's columns, permission checks and scope from the
hooks, and ``project:new|update|delete`` events through the outbox.
"""

from .engine import CrudSpec, crud_router
from .hooks import DELETING, CrudContext, CrudHooks

__all__ = ["DELETING", "CrudContext", "CrudHooks", "CrudSpec", "crud_router"]
