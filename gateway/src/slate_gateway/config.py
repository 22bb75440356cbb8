"""Gateway settings, read from the environment (12-factor, embedded-stack defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: Services in priority order (first declaration of a method+path wins) and
#: their default local URLs.
DEFAULT_UPSTREAMS: dict[str, str] = {
    "auth": "http://127.0.0.1:8101",
    "production": "http://127.0.0.1:8102",
    "media": "http://127.0.0.1:8103",
    "import-export": "http://127.0.0.1:8104",
    "planning": "http://127.0.0.1:8105",
}


def _env_name(service: str) -> str:
    return "SLATE_" + service.upper().replace("-", "_") + "_URL"


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    #: service name -> base URL; a service whose URL env var is "" or "off" is left out.
    upstreams: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_UPSTREAMS))
    #: None: echo the request's Origin; otherwise the allowed origins ("*" allows all).
    cors_origins: frozenset[str] | None = None
    refresh_interval: float = 30.0
    log_level: str = "info"
    #: SO_REUSEPORT worker processes (1 = a single process).
    workers: int = 1

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        upstreams = {}
        for name, default in DEFAULT_UPSTREAMS.items():
            url = env.get(_env_name(name), default).strip()
            if url and url.lower() != "off":
                upstreams[name] = url
        origins = env.get("SLATE_CORS_ORIGINS", "").strip()
        return cls(
            host=env.get("SLATE_HOST", "127.0.0.1"),
            port=int(env.get("SLATE_PORT", "8080")),
            upstreams=upstreams,
            cors_origins=(frozenset(o.strip() for o in origins.split(",") if o.strip())
                          if origins else None),
            refresh_interval=float(env.get("SLATE_GATEWAY_REFRESH_SECONDS", "30")),
            log_level=env.get("SLATE_LOG_LEVEL", "info").lower(),
            workers=max(1, int(env.get("SLATE_GATEWAY_WORKERS", "1"))),
        )
