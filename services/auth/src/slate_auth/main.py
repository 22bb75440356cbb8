"""The auth service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from slate_common.app import ServiceRuntime, create_service_app
from slate_common.crud import crud_router
from slate_common.db import transaction

from .api import auth, fido, passwords, persons, sso, two_factor
from .config import AuthSettings
from .consumers import HANDLERS
from .crud import specs
from .domain import identity_changes
from .domain.defaults import seed_departments
from .domain.keys import KeyRing, load_or_create
from .domain.login_guard import GuardPolicy, LoginGuard
from .domain.oidc import OidcProvider
from .domain.passwords import configure_hashing
from .domain.saml import SamlServiceProvider
from .owned import OWNED
from .rpc import rpc_handlers


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    configure_hashing(time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib,
                      parallelism=settings.password_hash_parallelism, production=settings.shared.env == "production")
    keyring = KeyRing()

    async def load_keys(runtime: ServiceRuntime) -> None:
        identity_changes.watch(runtime.sessionmaker.kw["sync_session_class"])  # before any write
        async with transaction(runtime.sessionmaker) as session:
            ring = await load_or_create(session)
        keyring.kid, keyring.private_key, keyring.public_keys = ring.kid, ring.private_key, ring.public_keys

    guard = LoginGuard(guard_policy(settings), settings.shared.secret_key)

    async def connect_guard(runtime: ServiceRuntime) -> None:
        assert runtime.js is not None
        await guard.connect(runtime.js, settings.login_guard_bucket)

    async def seed_reference_data(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessionmaker) as session:
            await seed_departments(session)

    app = create_service_app(
        settings,
        title="Slate auth",
        routers=[auth.router, passwords.router, persons.router, sso.router, two_factor.router, fido.router,
                 crud_router(specs(keyring, settings))],
        consumers=HANDLERS,
        owned=OWNED,
        rpc_handlers=rpc_handlers(lambda: app.state.runtime),
        on_startup=[load_keys, seed_reference_data],
        on_bus_ready=[connect_guard],
        key_provider=keyring.verification_keys,
    )
    app.state.keyring = keyring
    app.state.auth_settings = settings
    app.state.login_guard = guard
    app.state.saml_provider = SamlServiceProvider(settings)
    app.state.oidc_provider = OidcProvider(settings)
    return app


def guard_policy(settings: AuthSettings) -> GuardPolicy:
    return GuardPolicy(
        pair_free_failures=settings.login_pair_free_failures,
        pair_lock_seconds=settings.login_pair_lock_seconds,
        pair_lock_max_seconds=settings.login_pair_lock_max_seconds,
        account_free_failures=settings.login_account_free_failures,
        account_delay_seconds=settings.login_account_delay_seconds,
        account_delay_max_seconds=settings.login_account_delay_max_seconds,
        address_max_failures=settings.login_address_max_failures,
        address_window_seconds=settings.login_address_window_seconds,
        failure_memory_seconds=settings.login_failure_memory_seconds,
        known_address_seconds=settings.login_known_address_days * 86400,
        requests_per_window=settings.login_requests_per_window,
        request_window_seconds=settings.login_request_window_seconds,
    )
