"""Signing test tokens for one service's tests (the e2e tests log in through auth)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI


@dataclass
class TestSigner:
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def keys(self) -> dict[str, Any]:
        return {self.kid: self.key.public_key()}

    def token(self, person_id: uuid.UUID | None = None, role: str = "admin", **extra: Any) -> str:
        now = int(time.time())
        claims = {
            "sub": str(person_id or uuid.uuid4()), "role": role, "type": "access",
            "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 3600,
            "aud": "slate", "iss": "slate-auth", **extra,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, person_id: uuid.UUID | None = None, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person_id, role)}"}


@asynccontextmanager
async def service_client(app: FastAPI, signer: TestSigner) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and talk to it in-process; tokens verified with ``signer``."""
    async with app.router.lifespan_context(app):
        app.state.verifier.key_provider = signer.keys
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client
