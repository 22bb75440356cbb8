"""Identity: persons, departments, the organisation, and the token signing keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel

from .base import Base

person_department = Table(
    "department_link",
    Base.metadata,
    Column("person_id", UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", UUID(as_uuid=True), ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)


class Person(ZouModel, Base):
    __tablename__ = "person"
    hidden_fields: ClassVar[frozenset[str]] = frozenset(
        {"password", "totp_secret", "email_otp_secret", "fido_credentials", "recovery_codes",
         "failed_login_count", "last_failed_login_at", "locked_until"}
    )

    first_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    last_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(30), default="")
    country: Mapped[str | None] = mapped_column(String(100))
    contract_type: Mapped[str] = mapped_column(String(30), default="open-ended")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    last_presence: Mapped[dt.date | None] = mapped_column(Date)
    password: Mapped[str | None] = mapped_column(Text)
    desktop_login: Mapped[str | None] = mapped_column(String(80), default="")
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    email_otp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    email_otp_secret: Mapped[str | None] = mapped_column(String(64))
    fido_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    fido_credentials: Mapped[list[Any] | None] = mapped_column(JSONB)
    recovery_codes: Mapped[list[Any] | None] = mapped_column(JSONB)
    preferred_two_factor_authentication: Mapped[str | None] = mapped_column(String(30))
    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(50), default="Europe/Paris")
    locale: Mapped[str] = mapped_column(String(10), default="en_US")
    use_12_hour_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    display_date_format: Mapped[str] = mapped_column(String(20), default="YYYY-MM-DD")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    role: Mapped[str] = mapped_column(String(30), default="user", nullable=False)
    position: Mapped[str | None] = mapped_column(String(30), default="artist")
    seniority: Mapped[str | None] = mapped_column(String(30), default="mid")
    daily_salary: Mapped[int] = mapped_column(Integer, default=0)
    has_avatar: Mapped[bool] = mapped_column(Boolean, default=False)
    notifications_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    notifications_slack_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    notifications_slack_userid: Mapped[str] = mapped_column(String(60), default="")
    notifications_mattermost_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    notifications_mattermost_userid: Mapped[str] = mapped_column(String(60), default="")
    notifications_discord_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    notifications_discord_userid: Mapped[str] = mapped_column(String(60), default="")
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    preview_project_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    preview_opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    preview_open_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    expiration_date: Mapped[dt.date | None] = mapped_column(Date)
    is_generated_from_ldap: Mapped[bool] = mapped_column(Boolean, default=False)
    ldap_uid: Mapped[str | None] = mapped_column(String(60))
    studio_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        out = super().serialize(exclude=exclude)
        out["full_name"] = self.full_name
        return out


class Department(ZouModel, Base):
    __tablename__ = "department"

    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    color: Mapped[str] = mapped_column(String(7), default="#999999")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Organisation(ZouModel, Base):
    __tablename__ = "organisation"

    name: Mapped[str] = mapped_column(String(80), nullable=False, default="Kitsu")
    hours_by_day: Mapped[float] = mapped_column(Float, default=8.0)
    has_avatar: Mapped[bool] = mapped_column(Boolean, default=False)
    use_original_file_name: Mapped[bool] = mapped_column(Boolean, default=False)
    timesheets_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    format_duration_in_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    hd_by_default: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_token_slack: Mapped[str] = mapped_column(String(80), default="")
    chat_webhook_mattermost: Mapped[str] = mapped_column(String(80), default="")
    chat_token_discord: Mapped[str] = mapped_column(String(80), default="")
    dark_theme_by_default: Mapped[bool] = mapped_column(Boolean, default=False)


class SigningKey(Base):
    """RSA keys that sign tokens; the newest active one signs, all active ones verify."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
