"""A software FIDO2 authenticator (a "security key" in memory), built with fido2's
WebAuthn data structures and an ECDSA P-256 key from cryptography.

It answers what a browser's ``navigator.credentials.create/get`` would, in the WebAuthn
JSON form (base64url fields): ``register(options)`` for the registration options the
server gave, ``authenticate(options)`` for its request options. It keeps a signature
counter that grows at each use, as a real authenticator does.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)


class SoftAuthenticator:
    def __init__(self, *, origin: str, rp_id: str | None = None) -> None:
        self.origin = origin
        self.rp_id = rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0

    def _rp_hash(self, options: dict[str, Any]) -> bytes:
        rp_id = self.rp_id or options.get("rpId") or options["rp"]["id"]
        return hashlib.sha256(rp_id.encode()).digest()

    def register(self, options: dict[str, Any]) -> dict[str, Any]:
        """A registration response for ``options`` (PublicKeyCredentialCreationOptions)."""
        client_data = CollectedClientData.create(
            type="webauthn.create", challenge=websafe_decode(options["challenge"]), origin=self.origin
        )
        credential = AttestedCredentialData.create(
            bytes(16), self.credential_id, ES256.from_cryptography_key(self.key.public_key())
        )
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV | AuthenticatorData.FLAG.AT
        auth_data = AuthenticatorData.create(self._rp_hash(options), flags, self.counter, credential)
        attestation = AttestationObject.create("none", auth_data, {})
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(bytes(client_data)),
                "attestationObject": websafe_encode(bytes(attestation)),
            },
            "clientExtensionResults": {},
        }

    def authenticate(self, options: dict[str, Any], *, challenge: bytes | None = None) -> dict[str, Any]:
        """An assertion for ``options`` (PublicKeyCredentialRequestOptions), signed."""
        self.counter += 1
        client_data = CollectedClientData.create(
            type="webauthn.get", challenge=challenge or websafe_decode(options["challenge"]), origin=self.origin
        )
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV
        auth_data = AuthenticatorData.create(self._rp_hash(options), flags, self.counter)
        signature = self.key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(bytes(client_data)),
                "authenticatorData": websafe_encode(bytes(auth_data)),
                "signature": websafe_encode(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
        }
