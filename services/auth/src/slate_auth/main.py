"""The auth service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from slate_common.app import ServiceRuntime, create_service_app
from slate_common.crud import crud_router
from slate_common.db import transaction

from .api import auth, fido, passwords, persons, sso, two_factor
from .config import AuthSettings
from .consumers import HANDLERS
from .owned import OWNED
from .crud import specs
from .domain.defaults import seed_departments
from .domain.keys import KeyRing, load_or_create
from .domain.login_guard import RateLimiter
from .domain.oidc import OidcProvider
from .domain.saml import SamlServiceProvider
from .rpc import rpc_handlers


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    keyring = KeyRing()

    async def load_keys(runtime: ServiceRuntime) -> None:
        async with transaction(runtime.sessionmaker) as session:
            ring = await load_or_create(session)
        keyring.kid, keyring.private_key, keyring.public_keys = ring.kid, ring.private_key, ring.public_keys

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
        key_provider=keyring.verification_keys,
    )
    app.state.keyring = keyring
    app.state.auth_settings = settings
    app.state.login_limiter = RateLimiter(settings.login_rate_per_minute)
    app.state.saml_provider = SamlServiceProvider(settings)
    app.state.oidc_provider = OidcProvider(settings)
    return app
