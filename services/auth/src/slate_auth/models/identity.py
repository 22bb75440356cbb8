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
         "failed_login_count", "last_failed_login_at", "locked_until",
         "email_otp_code", "email_otp_expires_at", "reset_token_hash", "reset_token_expires_at",
         "bot_token_jti"}
    )

    first_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    last_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    #: null when created through /data/persons, "" when made by a service function
    #: (the admin account, SSO, preview accounts), as Zou's two ways of creating one.
    phone: Mapped[str | None] = mapped_column(String(30))
    country: Mapped[str | None] = mapped_column(String(100))
    contract_type: Mapped[str] = mapped_column(String(30), default="open-ended")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    last_presence: Mapped[dt.date | None] = mapped_column(Date)
    password: Mapped[str | None] = mapped_column(Text)
    desktop_login: Mapped[str | None] = mapped_column(String(80))
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
    #: The pending emailed one-time code (a keyed hash) and until when it is valid.
    email_otp_code: Mapped[str | None] = mapped_column(String(128))
    email_otp_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: The pending password reset token (a hash) and until when it is valid.
    reset_token_hash: Mapped[str | None] = mapped_column(String(128))
    reset_token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: The id of a bot's current API token (revoked when a new one is issued).
    bot_token_jti: Mapped[str | None] = mapped_column(String(64))

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


class Studio(ZouModel, Base):
    __tablename__ = "studio"

    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    color: Mapped[str] = mapped_column(String(7), nullable=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginLog(ZouModel, Base):
    """One row per login attempt of a known person; the listing shows the successful ones."""

    __tablename__ = "login_log"
    hidden_fields: ClassVar[frozenset[str]] = frozenset({"success", "updated_at"})

    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ip_address: Mapped[str | None] = mapped_column(String(50))
    origin: Mapped[str] = mapped_column(String(30), nullable=False, default="web")
    success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class DesktopLoginLog(ZouModel, Base):
    __tablename__ = "desktop_login_log"

    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    date: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class RefreshToken(Base):
    """Issued refresh tokens, for rotation with reuse detection: each refresh spends its
    token and issues the next of the same family; a spent token shown again revokes the
    whole family."""

    __tablename__ = "refresh_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AppLoginCode(Base):
    """One-time desktop app login codes (a hash), bound to a PKCE challenge."""

    __tablename__ = "app_login_code"

    code_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
    )
    code_challenge: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class SigningKey(Base):
    """RSA keys that sign tokens; the newest active one signs, all active ones verify."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
