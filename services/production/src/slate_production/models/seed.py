"""Which reference data this database has been given, and the default task types still
waiting for their department."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReferenceSeed(Base):
    """One row per set of defaults given to this database (``reference-data``: asset
    types, task statuses, task types). A fresh database gets them at the first start;
    an install older than this table is marked by its migration; deleted defaults never
    come back."""

    __tablename__ = "reference_seed"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class PendingTaskTypeDepartment(Base):
    """A seeded task type and the name of the default department it belongs to. Auth
    owns departments; the task type gets its ``department_id`` when production's
    replica learns a department of that name (``department:new``), then the row goes."""

    __tablename__ = "pending_task_type_department"

    task_type_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    department_name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
