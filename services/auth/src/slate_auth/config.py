from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config


class AuthSettings(BaseServiceSettings):
    service_name = "auth"
    model_config = service_config("auth")

    access_token_minutes: int = 60
    refresh_token_days: int = 30
    cookie_secure: bool | None = None  # None: Secure when the request came over HTTPS


def get_settings() -> AuthSettings:
    return AuthSettings()
