"""Gateway settings, read from the environment (12-factor, embedded-stack defaults).

Every ``SLATE_*`` variable the gateway reads is read here, once, into
:class:`Settings`; the other modules take the values they need from it.  The
gateway stays free of ``libs/common`` (its own small dependency set), so this is
a plain dataclass rather than the services' pydantic settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from slate_forwarded import TrustedProxies

#: Services in priority order (first declaration of a method+path wins) and
#: their default local URLs.
DEFAULT_UPSTREAMS: dict[str, str] = {
    "auth": "http://127.0.0.1:8101",
    "production": "http://127.0.0.1:8102",
    "media": "http://127.0.0.1:8103",
    "import-export": "http://127.0.0.1:8104",
    "planning": "http://127.0.0.1:8105",
}

#: Origins allowed by default: a Kitsu served beside the embedded stack (its dev
#: server and the usual local ports) and the gateway itself.
DEFAULT_CORS_ORIGINS = (
    "http://localhost:8080", "http://127.0.0.1:8080",
    "http://localhost:8081", "http://127.0.0.1:8081",
    "http://localhost:5173", "http://127.0.0.1:5173",
    "http://localhost", "http://127.0.0.1",
)

#: The proxies whose X-Forwarded-* headers are believed by default: loopback only.
DEFAULT_TRUSTED_PROXIES = "127.0.0.1/32,::1/128"


def _env_name(service: str) -> str:
    return "SLATE_" + service.upper().replace("-", "_") + "_URL"


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class PublicConfig:
    """What ``GET /config`` tells Kitsu (Zou's keys); auth's SSO switches included."""

    is_self_hosted: bool = True
    crisp_token: str = ""
    dark_theme_by_default: bool = False
    indexer_configured: bool = False
    saml_enabled: bool = False
    saml_idp_name: str = ""
    oidc_enabled: bool = False
    oidc_idp_name: str = ""
    default_locale: str = "en_US"
    default_timezone: str = "Europe/Paris"
    enforce_2fa: bool = False
    movie_highdef_bitrate: int = 28
    movie_lowdef_bitrate: int = 6
    preview_accounts_enabled: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PublicConfig:
        def flag(name: str, default: bool = False) -> bool:
            return _bool(env.get(name), default)

        return cls(
            is_self_hosted=flag("SLATE_IS_SELF_HOSTED", True),
            crisp_token=env.get("SLATE_CRISP_TOKEN", ""),
            dark_theme_by_default=flag("SLATE_DARK_THEME_BY_DEFAULT"),
            indexer_configured=flag("SLATE_INDEXER_CONFIGURED"),
            # Auth's own settings (SLATE_AUTH_*) name the SSO providers; the gateway reads the same.
            saml_enabled=flag("SLATE_AUTH_SAML_ENABLED", flag("SLATE_SAML_ENABLED")),
            saml_idp_name=env.get("SLATE_AUTH_SAML_IDP_NAME", env.get("SLATE_SAML_IDP_NAME", "")),
            oidc_enabled=flag("SLATE_AUTH_OIDC_ENABLED", flag("SLATE_OIDC_ENABLED")),
            oidc_idp_name=env.get("SLATE_AUTH_OIDC_IDP_NAME", env.get("SLATE_OIDC_IDP_NAME", "")),
            default_locale=env.get("SLATE_DEFAULT_LOCALE", "en_US"),
            default_timezone=env.get("SLATE_DEFAULT_TIMEZONE", "Europe/Paris"),
            enforce_2fa=flag("SLATE_ENFORCE_2FA"),
            movie_highdef_bitrate=int(env.get("SLATE_MOVIE_HIGHDEF_BITRATE", "28")),
            movie_lowdef_bitrate=int(env.get("SLATE_MOVIE_LOWDEF_BITRATE", "6")),
            preview_accounts_enabled=flag("SLATE_PREVIEW_ACCOUNTS_ENABLED", True),
        )


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    #: service name -> base URL; a service whose URL env var is "" or "off" is left out.
    upstreams: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_UPSTREAMS))
    #: Origins allowed to make credentialed cross-origin requests (SLATE_CORS_ORIGINS,
    #: comma-separated). Never "any origin": a credentialed API cannot allow that.
    cors_origins: frozenset[str] = frozenset(DEFAULT_CORS_ORIGINS)
    #: Proxies (CIDRs, SLATE_TRUSTED_PROXIES) whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: TrustedProxies = field(
        default_factory=lambda: TrustedProxies.parse(DEFAULT_TRUSTED_PROXIES))
    refresh_interval: float = 30.0
    log_level: str = "info"
    #: SO_REUSEPORT worker processes (1 = a single process).
    workers: int = 1
    #: Connections per upstream (open or opening); requests beyond wait for one to free.
    upstream_max_connections: int = 256
    #: "sdk" (OpenTelemetry spans), "light" (ids only) or "" (sdk when OTLP is configured).
    tracing_mode: str = ""
    otlp_configured: bool = False
    #: Seconds a SIGTERM waits for requests in flight before closing what is left.
    shutdown_timeout: float = 20.0
    #: Seconds a client may stay silent after its request was answered before its body was
    #: all sent (an upload refused early: 408, 413...). While it keeps sending, the rest is
    #: read and dropped and the connection is reused; once it goes quiet, it is closed.
    answered_body_linger: float = 5.0
    #: PROMETHEUS_MULTIPROC_DIR: where forked workers share their metrics (a "gateway"
    #: subdirectory); unset, a temporary directory.
    metrics_root: str = ""
    #: NATS (SLATE_NATS_URL) for the kept /auth/authenticated answers (.identity); with
    #: SLATE_GATEWAY_IDENTITY_VIEW=off, or no NATS URL, every call goes to auth.
    nats_url: str = ""
    events_stream: str = "SLATE_EVENTS"
    identity_view: bool = True
    public_config: PublicConfig = field(default_factory=PublicConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        upstreams = {}
        for name, default in DEFAULT_UPSTREAMS.items():
            url = env.get(_env_name(name), default).strip()
            if url and url.lower() != "off":
                upstreams[name] = url
        origins = env.get("SLATE_CORS_ORIGINS")  # comma-separated; unset: a Kitsu on localhost
        return cls(
            host=env.get("SLATE_HOST", "127.0.0.1"),
            port=int(env.get("SLATE_PORT", "8080")),
            upstreams=upstreams,
            cors_origins=(parse_origins(origins) if origins is not None
                          else frozenset(DEFAULT_CORS_ORIGINS)),
            trusted_proxies=TrustedProxies.parse(env.get(  # as the services: see SharedSettings
                "SLATE_TRUSTED_PROXIES", "127.0.0.1/32,::1/128")),
            refresh_interval=float(env.get("SLATE_GATEWAY_REFRESH_SECONDS", "30")),
            log_level=env.get("SLATE_LOG_LEVEL", "info").lower(),
            workers=max(1, int(env.get("SLATE_GATEWAY_WORKERS", "1"))),
            upstream_max_connections=int(env.get("SLATE_GATEWAY_UPSTREAM_MAX_CONNECTIONS", "256")),
            tracing_mode=env.get("SLATE_GATEWAY_TRACING", "").lower(),
            otlp_configured=bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                                 or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")),
            shutdown_timeout=float(env.get("SLATE_GATEWAY_SHUTDOWN_SECONDS", "20")),  # SIGTERM drain
            answered_body_linger=float(env.get(  # a client silent this long after an early answer is closed
                "SLATE_GATEWAY_ANSWERED_BODY_LINGER_SECONDS", "5")),
            metrics_root=env.get("PROMETHEUS_MULTIPROC_DIR", ""),
            nats_url=env.get("SLATE_NATS_URL", ""),  # the kept /auth/authenticated answers (identity.py)
            events_stream=env.get("SLATE_EVENTS_STREAM", "SLATE_EVENTS"),  # the events' JetStream stream
            identity_view=_bool(env.get("SLATE_GATEWAY_IDENTITY_VIEW"), True),  # off: every /auth/authenticated goes to auth
            public_config=PublicConfig.from_env(env),
        )


def parse_origins(text: str) -> frozenset[str]:
    """``"https://a, https://b/"`` -> the origins, without a trailing slash.

    ``*`` is refused: credentials (Kitsu's cookies) must never be offered to any origin.
    """
    origins = frozenset(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    if "*" in origins:
        raise ValueError("'*' is not allowed in SLATE_CORS_ORIGINS (Kitsu's requests carry "
                         "credentials): list the origins that serve Kitsu")
    return origins
