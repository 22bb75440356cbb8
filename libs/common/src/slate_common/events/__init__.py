"""Events: envelope, transactional outbox, relay to JetStream, idempotent consumers.

A change and its event are written in one transaction (:func:`emit`); the relay
publishes outbox rows with ``Nats-Msg-Id = event id`` so the server drops duplicates;
consumers record each processed event id in an inbox table in the same transaction as
their effect, then ack. A crash anywhere loses nothing and applies nothing twice.
"""

from .consistency import Settler, settle_scope
from .consumer import Consumer, EventHandler
from .envelope import Event
from .models import InboxEvent, OutboxEvent
from .outbox import emit
from .relay import OutboxRelay

__all__ = [
    "Consumer", "Event", "EventHandler", "InboxEvent", "OutboxEvent", "OutboxRelay", "Settler", "emit", "settle_scope",
]
