"""The embedded stack: PostgreSQL, NATS and S3 from wheels, a process supervisor, and
:class:`Stack`, which boots the whole suite (used by ``slate up`` and the tests)."""

from slate_common.stack._util import free_port, free_port_block, port_is_free
from slate_common.stack.nats import EmbeddedNats
from slate_common.stack.postgres import EmbeddedPostgres
from slate_common.stack.process import ManagedProcess, Supervisor
from slate_common.stack.s3 import S3_PORT_SPAN, EmbeddedS3

__all__ = [
    "S3_PORT_SPAN",
    "EmbeddedNats",
    "EmbeddedPostgres",
    "EmbeddedS3",
    "ManagedProcess",
    "Supervisor",
    "free_port",
    "free_port_block",
    "port_is_free",
]

from slate_common.config import DEFAULT_ADMIN_PASSWORD  # noqa: E402
from slate_common.stack.stack import (  # noqa: E402
    DEFAULT_ADMIN_EMAIL,
    InfraEndpoints,
    Stack,
    StackConfig,
    StackError,
    module_name,
    with_infra,
)

__all__ += [
    "DEFAULT_ADMIN_EMAIL",
    "DEFAULT_ADMIN_PASSWORD",
    "InfraEndpoints",
    "Stack",
    "StackConfig",
    "StackError",
    "module_name",
    "with_infra",
]
