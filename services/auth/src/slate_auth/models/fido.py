"""FIDO2/WebAuthn: the pending challenges (the registered credentials are in the
person's hidden ``fido_credentials`` column, cleared when 2FA is disabled)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class FidoChallenge(Base):
    """A registration or an authentication begun and not completed, found again by its
    challenge (so that asking for a new one never voids another pending one) and
    deleted when used: a replayed response finds none."""

    __tablename__ = "fido_challenge"

    challenge: Mapped[str] = mapped_column(String(128), primary_key=True)  # base64url
    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)  # "register" | "authenticate"
    state: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
