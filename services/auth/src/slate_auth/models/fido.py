"""FIDO2/WebAuthn: a person's registered authenticators and the pending challenges."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.serialization import now

from .base import Base


class FidoDevice(Base):
    """One registered authenticator: its credential (id and public key, as the attested
    credential data) and its signature counter. Never serialized: only the device name
    is ever shown (Zou's ``fido_devices``)."""

    __tablename__ = "fido_device"
    __table_args__ = (UniqueConstraint("person_id", "device_name"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    device_name: Mapped[str] = mapped_column(String(80), nullable=False)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    credential_data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sign_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class FidoChallenge(Base):
    """The state of a registration or an authentication begun and not completed; one per
    person and purpose, deleted when used (a replayed response finds none)."""

    __tablename__ = "fido_challenge"

    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)  # "register" | "authenticate"
    state: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
