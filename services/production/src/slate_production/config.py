from __future__ import annotations

from typing import Literal

from slate_common.config import BaseServiceSettings, service_config


class ProductionSettings(BaseServiceSettings):
    service_name = "production"
    model_config = service_config("production")

    #: Production serves most of the requests: at 32 clients a process had ~20 requests
    #: and loops using the database at once, and every connection above the pool was
    #: opened for one request and closed after it (a backend forked, the statements
    #: prepared again): 75-110 new sessions in 20 s and ~15 % fewer requests served
    #: than with 24 (bench/RESULTS.md, session 11). 24 + 6 per process.
    db_pool_size: int = 24
    db_max_overflow: int = 6
    #: Its listings' statements are large: PostgreSQL planned the to-do list's again at
    #: each call (3.7 ms of planning for 0.5 ms of running it); one generic plan per
    #: connection took PostgreSQL's planning from 0.35-0.65 to 0.01-0.1 ms per request
    #: of the mix at 32 clients (bench/RESULTS.md, session 11).
    db_plan_cache_mode: Literal["auto", "force_generic_plan", "force_custom_plan"] = "force_generic_plan"
    #: Requests of a process at work at once (slate_common.admission): at 32 clients
    #: with no bound a comment's fifteen awaits each waited behind ~16 requests of its
    #: loop (290 ms against 55 for a task read) and made the mix's p99 (310-390 ms);
    #: 4 to 8 gave 180-255 ms and as many requests served, 6 the best of them
    #: (bench/RESULTS.md, session 12).
    max_active_requests: int = 6
    #: Bytes of with-tasks listings kept per process (0 turns the cache off). Entries are
    #: per caller: the shared bench's 32 artists and 4 managers need ~45 MB per process by
    #: the sizes of their listings (a shots-with-tasks listing of 500 shots is 1.6 MB, kept
    #: as rows and as a body);
    #: at 32 MB they evicted each other and were rebuilt whole (at 32 clients 373-395
    #: against 404-446 requests/s with 128 MB, bench/RESULTS.md, session 11). The pods'
    #: memory limits leave room for it (docs/operations.md).
    listing_cache_mb: int = 128
    #: The studio's limit of active persons, told to admins in /data/user/context
    #: (Zou's USER_LIMIT; auth does not enforce it).
    user_limit: int = 100
