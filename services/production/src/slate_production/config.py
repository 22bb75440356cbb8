from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config


class ProductionSettings(BaseServiceSettings):
    service_name = "production"
    model_config = service_config("production")

    #: Bytes of with-tasks listings kept per process (0 turns the cache off).
    listing_cache_mb: int = 32
    #: The studio's limit of active persons, told to admins in /data/user/context
    #: (Zou's USER_LIMIT; auth does not enforce it).
    user_limit: int = 100
