"""pytest plugin: real PostgreSQL, NATS and S3 for tests, and the whole suite booted.

Enable it from the root ``conftest.py``::

    pytest_plugins = ["slate_common.testing"]

Fixtures (session scope unless said otherwise):

``infra``          :class:`~slate_common.stack.InfraEndpoints` of PostgreSQL, NATS and S3.
                   Containers (testcontainers) when a Docker engine answers, else the
                   embedded wheels on free ports in a temporary directory. Force one with
                   ``SLATE_TEST_INFRA=docker|embedded``. The session's environment gets
                   ``SLATE_POSTGRES_URL``, ``SLATE_NATS_URL`` and ``SLATE_S3_*``. An xdist
                   worker launches the embedded ones when its session starts (they boot
                   while it collects); elsewhere they start when a test first needs them.
``make_database``  factory ``(service, *, migrate=False) -> url``: a fresh, uniquely named
                   database on ``infra`` (gone with it at session end), optionally at its
                   migrations' head: a copy of a template the session migrated once (what
                   ``python -m slate_<service> migrate`` does, from this process).
``events_nats``    URL of a NATS server of its own, for tests that make their own events
                   stream (on ``infra``'s, the services' ``SLATE_EVENTS`` holds its subjects).
``smtp_sink``      :class:`SmtpSinkHandle`: a real SMTP server (aiosmtpd) on a free port;
                   read what was sent with ``wait_for(address)``.
``slate_stack``    :class:`SlateStackHandle`: the whole suite booted with
                   :class:`~slate_common.stack.Stack` on free ports, its own embedded
                   infrastructure and a temporary ``SLATE_HOME``.

Helpers: :func:`eventually` (poll what another process does on its own schedule, never an
HTTP write's effect) and :class:`Clock` (an injectable ``time.time`` the test moves).
"""

from slate_common.testing.databases import create_database, drop_database, migrate_database, migrate_in_process
from slate_common.testing.fixtures import (
    EmbeddedInfra,
    SlateStackHandle,
    SmtpSinkHandle,
    booted_stack,
    docker_available,
    events_nats,
    infra,
    make_database,
    pytest_sessionfinish,
    pytest_sessionstart,
    running_infra,
    slate_stack,
    smtp_sink,
    start_infra,
)
from slate_common.testing.timing import Clock, eventually

__all__ = [
    "Clock",
    "EmbeddedInfra",
    "SlateStackHandle",
    "booted_stack",
    "create_database",
    "docker_available",
    "drop_database",
    "eventually",
    "events_nats",
    "infra",
    "make_database",
    "migrate_database",
    "migrate_in_process",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "running_infra",
    "slate_stack",
    "smtp_sink",
    "SmtpSinkHandle",
    "start_infra",
]
