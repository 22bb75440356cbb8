"""Token signing keys: created on first start, kept in auth's database, published as JWKS."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.serialization import now

from ..models import SigningKey


@dataclass
class KeyRing:
    """The keys in memory: ``signing`` (kid, private key) and the public keys by kid."""

    kid: str = ""
    private_key: Any = None
    public_keys: dict[str, Any] = field(default_factory=dict)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, public in self.public_keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
            jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
            keys.append(jwk)
        return {"keys": keys}

    def verification_keys(self) -> dict[str, Any]:
        return self.public_keys


async def load_or_create(session: AsyncSession) -> KeyRing:
    rows = (await session.scalars(select(SigningKey).where(SigningKey.active).order_by(SigningKey.created_at))).all()
    if not rows:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        # Two auth replicas starting at once: only one key wins, both read it back.
        await session.execute(
            insert(SigningKey).values(kid=uuid.uuid4().hex, private_pem=pem, created_at=now(), active=True)
            .on_conflict_do_nothing()
        )
        await session.flush()
        rows = (await session.scalars(select(SigningKey).where(SigningKey.active).order_by(SigningKey.created_at))).all()
    ring = KeyRing()
    for row in rows:
        loaded = serialization.load_pem_private_key(row.private_pem.encode(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):  # written above, always RSA (RS256)
            raise RuntimeError(f"signing key {row.kid} is not an RSA key")
        ring.public_keys[row.kid] = loaded.public_key()
        ring.kid, ring.private_key = row.kid, loaded
    return ring
