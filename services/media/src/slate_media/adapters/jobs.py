"""The preview job queue: a JetStream work-queue stream consumed by media workers.

A job is enqueued through the outbox, in the transaction that marks the preview
``processing`` (an OutboxEvent row on the jobs subject, published by the relay), so a
crash can neither lose the job nor publish it for a change that was rolled back.

Workers pull one job at a time per slot, heartbeat it (``in_progress``) while ffmpeg
runs, and ack only after the result is committed. A worker killed mid-job stops
heartbeating: JetStream redelivers the job to another worker after ``ack_wait``. Each
start is counted on the preview (committed before the work), so a job that keeps
killing its workers is marked broken after ``job_max_attempts`` instead of looping.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import Event
from slate_common.events.models import OutboxEvent
from slate_common.events.outbox import add_row
from slate_common.logging import get_logger
from slate_common.metrics import observe_job
from slate_common.serialization import now
from slate_common.tracing import inject_headers

log = get_logger(__name__)

JOBS_SUBJECT_PREFIX = "slate.jobs.media"
PREVIEW_JOB = "media:process-preview"
WORKERS_CONSUMER = "media-workers"


def enqueue_preview_job(
    session: AsyncSession, preview_file_id: uuid.UUID, upload_token: uuid.UUID, *,
    subject_prefix: str = JOBS_SUBJECT_PREFIX, source_extension: str | None = None,
) -> Event:
    """Queue the processing of a preview's upload, in the caller's transaction (outbox).
    The source's extension rides along, so a worker can fetch it while it records the start."""
    data = {"preview_file_id": str(preview_file_id), "upload_token": str(upload_token)}
    if source_extension:
        data["source_extension"] = source_extension
    event = Event(name=PREVIEW_JOB, data=data)
    row = OutboxEvent(
        id=event.id,
        subject=f"{subject_prefix}.preview",
        payload=event.to_json(),
        headers=inject_headers(),
    )
    # as emit()'s: the request's settle publishes it (in the background: no consumer group
    # of the events stream reads the jobs' subjects), or the relay at once. Left to the
    # relay's poll, a job waited up to a second (5 s once the relay left young rows alone).
    add_row(session, row=row)
    return event


async def ensure_jobs_stream(js: JetStreamContext, stream: str, subject_prefix: str = JOBS_SUBJECT_PREFIX) -> None:
    config = StreamConfig(
        name=stream,
        subjects=[f"{subject_prefix}.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        duplicate_window=120.0,
    )
    try:
        await js.stream_info(stream)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except Exception as exc:  # another process created it meanwhile
            if "already in use" not in str(exc):
                raise


JobHandler = Callable[[Event], Awaitable[None]]


class RetryLater(Exception):
    """The job could not run now (storage or database away); redeliver it later."""


class JobWorker:
    def __init__(
        self, *, js: JetStreamContext, stream: str, handler: JobHandler, ack_wait: float, concurrency: int = 1,
        subject_prefix: str = JOBS_SUBJECT_PREFIX,
    ) -> None:
        self.subject_prefix = subject_prefix
        self.js = js
        self.stream = stream
        self.handler = handler
        self.ack_wait = ack_wait
        self.concurrency = max(1, concurrency)

    async def subscribe(self) -> Any:
        await ensure_jobs_stream(self.js, self.stream, self.subject_prefix)
        config = ConsumerConfig(
            durable_name=WORKERS_CONSUMER,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            max_deliver=-1,  # attempts are counted on the preview (see the module docstring)
            max_ack_pending=1000,
            filter_subject=f"{self.subject_prefix}.>",
        )
        try:
            await self.js.add_consumer(self.stream, config=config)
        except Exception as exc:  # exists with another ack_wait (another worker's settings)
            log.info("jobs_consumer_exists", error=str(exc))
        return await self.js.pull_subscribe_bind(durable=WORKERS_CONSUMER, stream=self.stream)

    async def run(self) -> None:
        sub = await self.subscribe()
        log.info("media_worker_started", concurrency=self.concurrency, ack_wait=self.ack_wait)
        await asyncio.gather(*(self._slot(sub) for _ in range(self.concurrency)))

    async def _slot(self, sub: Any) -> None:
        while True:
            try:
                msgs = await sub.fetch(1, timeout=5)
            except NatsTimeout:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("jobs_fetch_failed", error=str(exc))
                await asyncio.sleep(1)
                continue
            for msg in msgs:
                await self.handle(msg)

    async def handle(self, msg: Any) -> None:
        try:
            event = Event.from_json(msg.data)
        except (ValueError, KeyError, TypeError):
            log.error("job_bad_envelope", subject=msg.subject)
            await msg.term()
            return
        waited = (now() - event.occurred_at).total_seconds()
        log.info("job_picked", job=event.name, queued_ms=round(waited * 1000, 1), data=event.data)
        beat = asyncio.create_task(self._heartbeat(msg))
        try:
            with observe_job("media", event.name):  # slate_job_duration_seconds
                await self.handler(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delivered = msg.metadata.num_delivered if msg.metadata else 1
            log.warning("job_failed_will_retry", job=event.name, data=event.data, delivered=delivered, error=repr(exc))
            beat.cancel()
            with contextlib.suppress(Exception):
                await msg.nak(delay=min(2.0**delivered, 30.0))
            return
        finally:
            beat.cancel()
        await msg.ack()

    async def _heartbeat(self, msg: Any) -> None:
        interval = max(self.ack_wait / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await msg.in_progress()
