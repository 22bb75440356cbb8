"""Events planning reacts to: {event name: handler}."""

from slate_common.replica import replica_handlers

from .models import ProjectReplica

HANDLERS = {**replica_handlers(ProjectReplica, "project")}
