"""Single sign-on: which external identity (SAML or OIDC issuer and subject) a person is
bound to, and the one-use login states (SAML request ids, OIDC state/nonce/PKCE)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.serialization import now

from .base import Base


class SsoIdentity(Base):
    """A person's identity at an identity provider: ``(provider, issuer, subject)``."""

    __tablename__ = "sso_identity"
    __table_args__ = (
        UniqueConstraint("provider", "issuer", "subject"),
        UniqueConstraint("person_id", "provider", "issuer"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    provider: Mapped[str] = mapped_column(String(10), nullable=False)  # "saml" | "oidc"
    issuer: Mapped[str] = mapped_column(String(512), nullable=False)
    subject: Mapped[str] = mapped_column(String(512), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, nullable=False)


class SsoState(Base):
    """A login started at an identity provider and not finished yet; used once."""

    __tablename__ = "sso_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # SAML request id or OIDC state
    provider: Mapped[str] = mapped_column(String(10), nullable=False)
    nonce: Mapped[str | None] = mapped_column(String(128))
    code_verifier: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
