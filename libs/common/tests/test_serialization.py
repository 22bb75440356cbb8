from __future__ import annotations

import datetime as dt
import uuid

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
