from __future__ import annotations

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
    #: Bytes of with-tasks listings kept per process (0 turns the cache off).
    listing_cache_mb: int = 32
    #: The studio's limit of active persons, told to admins in /data/user/context
    #: (Zou's USER_LIMIT; auth does not enforce it).
    user_limit: int = 100
