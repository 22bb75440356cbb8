from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from slate_common.serialization import dumps, loads


def test_zou_serialization_of_ids_and_timestamps() -> None:
    pid = uuid.uuid4()
    aware = dt.datetime(2026, 1, 31, 13, 0, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    doc = loads(dumps({"id": pid, "naive": dt.datetime(2026, 1, 31, 12, 0, 0, 999), "aware": aware,
                       "day": dt.date(2026, 2, 1), "data": {"k": [1, None]}}))
    assert doc == {
        "id": str(pid),
        "naive": "2026-01-31T12:00:00",
        "aware": "2026-01-31T12:00:05",  # converted to UTC, no zone, seconds
        "day": "2026-02-01",
        "data": {"k": [1, None]},
    }


def test_a_model_serializes_its_columns_whatever_was_asked_before() -> None:
    """ZouModel.serialize keeps each model's column list per set of excluded names: a
    call excluding a column does not change what the next call answers; hidden and
    bookkeeping columns never appear; values are converted as before."""
    import datetime as dt
    import uuid

    from slate_common.db import ZouModel

    class Base(DeclarativeBase):
        pass

    class Gadget(ZouModel, Base):
        __tablename__ = "gadget"
        hidden_fields = frozenset({"secret"})
        name: Mapped[str] = mapped_column(String(20))
        secret: Mapped[str | None] = mapped_column(String(20))
        source_version: Mapped[int | None] = mapped_column()

    ident = uuid.uuid4()
    when = dt.datetime(2026, 1, 31, 12, 0, 0, 123456)
    gadget = Gadget(id=ident, name="g", secret="s", source_version=3, created_at=when, updated_at=when)
    full = {"id": str(ident), "created_at": "2026-01-31T12:00:00", "updated_at": "2026-01-31T12:00:00",
            "name": "g", "type": "Gadget"}
    assert gadget.serialize() == full
    assert gadget.serialize(exclude=frozenset({"name"})) == {k: v for k, v in full.items() if k != "name"}
    assert gadget.serialize() == full
    gadget.name = "renamed"
    assert gadget.serialize()["name"] == "renamed"
