"""Which reference data this database has been given, so each is seeded once only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReferenceSeed(Base):
    """One row per set of defaults given to this database (``default-departments``).
    A fresh database gets them at the service's first start; an install that existed
    before (it had persons when the table was created) is marked without seeding, and
    defaults deleted later never come back."""

    __tablename__ = "reference_seed"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
