from __future__ import annotations

from pydantic import AliasChoices, Field

from slate_common.config import DEFAULT_PORTS, BaseServiceSettings, service_config

from .sso_settings import SsoSettings


def _env(name: str) -> AliasChoices:
    """A knob read from ``SLATE_<NAME>`` (shared by the stack) or ``SLATE_AUTH_<NAME>``."""
    return AliasChoices(f"SLATE_{name}", f"SLATE_AUTH_{name}")


class AuthSettings(BaseServiceSettings, SsoSettings):
    service_name = "auth"
    model_config = {**service_config("auth"), "populate_by_name": True}

    access_token_minutes: int = 60
    refresh_token_days: int = 30
    #: Each refresh spends its refresh token and returns the next one; a spent token
    #: shown again revokes its whole family (every token descending from that login).
    refresh_token_rotation: bool = True
    cookie_secure: bool | None = None  # None: Secure when the request came over HTTPS
    #: Failed logins in a row before an account is locked, and for how long.
    login_max_failures: int = 5
    login_lock_seconds: int = 300
    #: Login attempts allowed per client IP per minute (per auth process).
    login_rate_per_minute: int = 120  # generous: a studio behind one NAT shares an IP

    # public_url (SsoSettings) is also the base of the links in mails (reset password, invite).
    app_name: str = "Kitsu"
    reset_token_hours: int = 2
    email_otp_minutes: int = 5
    app_login_code_seconds: int = 60

    #: Outgoing mail (SLATE_SMTP_*; the embedded stack runs a local sink on 18025).
    smtp_host: str = Field("127.0.0.1", validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(DEFAULT_PORTS["smtp"], validation_alias=_env("SMTP_PORT"))
    smtp_user: str | None = Field(None, validation_alias=_env("SMTP_USER"))
    smtp_password: str | None = Field(None, validation_alias=_env("SMTP_PASSWORD"))
    smtp_starttls: bool = Field(False, validation_alias=_env("SMTP_STARTTLS"))
    smtp_ssl: bool = Field(False, validation_alias=_env("SMTP_SSL"))
    smtp_timeout: float = Field(10.0, validation_alias=_env("SMTP_TIMEOUT"))
    mail_from: str = Field("Kitsu <no-reply@slate.local>", validation_alias=_env("MAIL_FROM"))


def get_settings() -> AuthSettings:
    return AuthSettings()
