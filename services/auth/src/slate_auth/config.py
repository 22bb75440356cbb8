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
    #: Brute-force protection (domain/login_guard.py; the numbers and why in
    #: docs/decisions.md). Only failures count; counted in NATS KV across every process.
    #: Failures of one account from one address before that pair locks, the first lock
    #: (doubled at each further failure) and its cap.
    login_pair_free_failures: int = 5
    login_pair_lock_seconds: float = 60.0
    login_pair_lock_max_seconds: float = 3600.0
    #: Failures of one account (any address) before attempts from addresses that have not
    #: logged into it lately wait a delay (doubled at each failure) up to the cap.
    login_account_free_failures: int = 10
    login_account_delay_seconds: float = 1.0
    login_account_delay_max_seconds: float = 900.0
    #: Failures from one address (any account) per window before it is refused on
    #: accounts it has not logged into lately (password spraying).
    login_address_max_failures: int = 100
    login_address_window_seconds: float = 600.0
    #: Failures are forgotten this long after the last one.
    login_failure_memory_seconds: float = 86400.0
    #: An address that logged into an account stays "known" to it this long.
    login_known_address_days: float = 30.0
    #: Mails and login ceremonies (reset password, email code, FIDO challenge) per
    #: address and account per window.
    login_requests_per_window: int = 10
    login_request_window_seconds: float = 600.0
    #: NATS KV buckets of the counts: this one and ``<name>_known``.
    login_guard_bucket: str = "slate_login_guard"
    #: argon2id cost of new password hashes (the library's defaults, RFC 9106's
    #: low-memory profile: ~0.1 s of CPU each). SLATE_ENV=production refuses less; the
    #: tests lower it (the login guard and the accounts are what they test, not the KDF).
    password_hash_time_cost: int = Field(3, ge=1)
    password_hash_memory_kib: int = Field(65536, ge=8)
    password_hash_parallelism: int = Field(4, ge=1)

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
