from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config

from .sso_settings import SsoSettings


class AuthSettings(BaseServiceSettings, SsoSettings):
    service_name = "auth"
    model_config = service_config("auth")

    access_token_minutes: int = 60
    refresh_token_days: int = 30
    cookie_secure: bool | None = None  # None: Secure when the request came over HTTPS
    #: Failed logins in a row before an account is locked, and for how long.
    login_max_failures: int = 5
    login_lock_seconds: int = 300
    #: Login attempts allowed per client IP per minute (per auth process).
    login_rate_per_minute: int = 120  # generous: a studio behind one NAT shares an IP
    #: Take the client IP from the last X-Forwarded-For entry (the gateway adds it).
    trust_forwarded_for: bool = True


def get_settings() -> AuthSettings:
    return AuthSettings()
