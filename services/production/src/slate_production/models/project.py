"""Projects, their statuses and their teams."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel

from .base import Base

#: The team of a project. Person ids come from auth (no foreign key across services).
project_person_link = Table(
    "project_person_link",
    Base.metadata,
    Column("project_id", UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", UUID(as_uuid=True), primary_key=True, index=True),
    #: The person's role on this production only (None: their studio role).
    Column("role", String(20), nullable=True),
)


class ProjectStatus(ZouModel, Base):
    __tablename__ = "project_status"

    name: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    color: Mapped[str] = mapped_column(String(7), default="#000000", nullable=False)


class Project(ZouModel, Base):
    __tablename__ = "project"

    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    code: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    file_tree: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    has_avatar: Mapped[bool] = mapped_column(Boolean, default=False)
    fps: Mapped[str] = mapped_column(String(10), default="25")
    ratio: Mapped[str] = mapped_column(String(10), default="16:9")
    resolution: Mapped[str] = mapped_column(String(12), default="1920x1080")
    production_type: Mapped[str] = mapped_column(String(20), default="short")
    production_style: Mapped[str] = mapped_column(String(20), default="2d3d", nullable=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    man_days: Mapped[int | None] = mapped_column(Integer)
    nb_episodes: Mapped[int] = mapped_column(Integer, default=0)
    episode_span: Mapped[int] = mapped_column(Integer, default=0)
    max_retakes: Mapped[int] = mapped_column(Integer, default=0)
    is_clients_isolated: Mapped[bool] = mapped_column(Boolean, default=False)
    is_client_stats_visible: Mapped[bool] = mapped_column(Boolean, default=True)
    is_client_task_list_visible: Mapped[bool] = mapped_column(Boolean, default=True)
    is_client_task_panel_visible: Mapped[bool] = mapped_column(Boolean, default=True)
    is_preview_download_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_set_preview_automated: Mapped[bool] = mapped_column(Boolean, default=False)
    homepage: Mapped[str] = mapped_column(String(80), default="assets")
    is_publish_default_for_artists: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot_collaboration_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_single_preview_per_revision: Mapped[bool] = mapped_column(Boolean, default=False)
    is_frame_in_numbering: Mapped[bool] = mapped_column(Boolean, default=False)
    revision_padding: Mapped[int] = mapped_column(Integer, default=0)
    hd_bitrate_compression: Mapped[int | None] = mapped_column(Integer)
    ld_bitrate_compression: Mapped[int | None] = mapped_column(Integer)
    project_status_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("project_status.id"), index=True
    )
    default_preview_background_file_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    from_schedule_version_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


#: The asset types a project uses (its settings).
project_asset_type_link = Table(
    "project_asset_type_link",
    Base.metadata,
    Column("project_id", UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("asset_type_id", UUID(as_uuid=True), ForeignKey("entity_type.id", ondelete="CASCADE"), primary_key=True),
)

#: Roles that see a status on the board by default (Zou's default ``roles_for_board``).
DEFAULT_BOARD_ROLES = ["user", "admin", "supervisor", "manager", "vendor"]


class ProjectTaskTypeLink(ZouModel, Base):
    """A task type used by a project, with its order in that project."""

    __tablename__ = "project_task_type_link"
    __table_args__ = (UniqueConstraint("project_id", "task_type_id"),)

    project_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    task_type_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task_type.id", ondelete="CASCADE"), nullable=False, index=True
    )
    priority: Mapped[int | None] = mapped_column(Integer)
    hd_bitrate_compression: Mapped[int | None] = mapped_column(Integer)
    ld_bitrate_compression: Mapped[int | None] = mapped_column(Integer)
    is_client_visible: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class ProjectTaskStatusLink(ZouModel, Base):
    """A task status used by a project, with its order and who sees it on the board."""

    __tablename__ = "project_task_status_link"
    __table_args__ = (UniqueConstraint("project_id", "task_status_id"),)

    project_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    task_status_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task_status.id", ondelete="CASCADE"), nullable=False, index=True
    )
    priority: Mapped[int | None] = mapped_column(Integer)
    roles_for_board: Mapped[list[str] | None] = mapped_column(
        ARRAY(String(20)), default=lambda: list(DEFAULT_BOARD_ROLES)
    )
    is_client_allowed: Mapped[bool | None] = mapped_column(Boolean)
