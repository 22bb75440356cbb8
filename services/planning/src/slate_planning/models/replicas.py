"""Local copies of other services' rows, fed by their events."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.replica import Replicated

from .base import Base


class ProjectReplica(Replicated, Base):
    """Projects as production announces them (schedules, budgets hang on them)."""

    __tablename__ = "project_replica"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    project_status_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
