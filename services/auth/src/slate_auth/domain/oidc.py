"""OpenID Connect relying party: the authorization-code flow with PKCE (authlib's OAuth
2 client) and ID token verification (joserfc, against the provider's JWKS).

The provider is found by discovery (``<issuer>/.well-known/openid-configuration``).
State, nonce and PKCE verifier are kept in ``sso_state`` and used once. The ID token
must be signed by a key of the provider's JWKS, issued by the configured issuer, for
our client id, unexpired, and carry the nonce we sent.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

with warnings.catch_warnings():  # authlib would rather use the httpx2 fork; httpx is supported
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from ..sso_settings import SsoSettings
from .sso import ExternalIdentity, SsoError, SsoUnavailable

PROVIDER = "oidc"
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


class OidcProvider:
    """The provider's discovery document and keys, fetched on first use (keys again when
    a token names one we do not know, at most every 10 seconds)."""

    def __init__(self, settings: SsoSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def issuer(self) -> str:
        return self.settings.oidc_issuer.rstrip("/")

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                response = await http.get(url)
                response.raise_for_status()
                doc = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoUnavailable("The OIDC provider could not be reached.") from exc
        if not isinstance(doc, dict):
            raise SsoUnavailable("The OIDC provider sent an invalid document.")
        return doc

    async def metadata(self) -> dict[str, Any]:
        async with self._lock:
            if self._metadata is None:
                if not self.issuer or not self.settings.oidc_client_id:
                    raise SsoUnavailable("OIDC is enabled but its issuer or client id is not configured.")
                doc = await self._get_json(self.issuer + "/.well-known/openid-configuration")
                if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
                    raise SsoUnavailable("The OIDC discovery document names another issuer.")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not doc.get(key):
                        raise SsoUnavailable("The OIDC discovery document is incomplete.")
                self._metadata = doc
            return self._metadata

    async def keys(self, *, refresh: bool = False) -> KeySet:
        metadata = await self.metadata()
        async with self._lock:
            stale = refresh and time.monotonic() - self._keys_at > 10.0
            if self._keys is None or stale:
                try:
                    self._keys = KeySet.import_key_set(await self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
                except (JoseError, ValueError, KeyError) as exc:
                    raise SsoUnavailable("The OIDC provider's keys are invalid.") from exc
                self._keys_at = time.monotonic()
            return self._keys

    def client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=self.settings.oidc_client_secret,
            scope=self.settings.oidc_scope,
            redirect_uri=self.settings.oidc_redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            timeout=10.0,
        )


async def authorization_url(provider: OidcProvider) -> tuple[str, str, str, str]:
    """Where to send the browser: (url, state, nonce, PKCE code verifier)."""
    metadata = await provider.metadata()
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    async with provider.client() as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    return url, state, nonce, verifier


async def _decode_id_token(provider: OidcProvider, id_token: str, *, nonce: str) -> dict[str, Any]:
    try:
        try:
            token = jwt.decode(id_token, await provider.keys(), algorithms=ID_TOKEN_ALGORITHMS)
        except JoseError:  # perhaps signed by a key rotated in since: fetch the keys again once
            token = jwt.decode(id_token, await provider.keys(refresh=True), algorithms=ID_TOKEN_ALGORITHMS)
        registry = jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.settings.oidc_client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise SsoError("Invalid ID token.") from exc
    claims = dict(token.claims)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.settings.oidc_client_id:
        raise SsoError("Invalid ID token.")
    return claims


async def identity_from_code(
    provider: OidcProvider, *, code: str, nonce: str, code_verifier: str
) -> ExternalIdentity:
    """Exchange the code for tokens, verify the ID token, read who the person is."""
    metadata = await provider.metadata()
    async with provider.client() as client:
        try:
            token = await client.fetch_token(
                metadata["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=code_verifier
            )
        except (OAuthError, OAuth2Error, httpx.HTTPError, ValueError) as exc:
            raise SsoError("The authorization code was refused by the OIDC provider.") from exc
        id_token = token.get("id_token")
        if not id_token:
            raise SsoError("The OIDC provider sent no ID token.")
        claims = await _decode_id_token(provider, str(id_token), nonce=nonce)
        if not claims.get("email") and metadata.get("userinfo_endpoint"):
            try:
                info = (await client.get(metadata["userinfo_endpoint"])).json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SsoError("The OIDC provider's user info could not be read.") from exc
            if isinstance(info, dict) and info.get("sub") == claims["sub"]:
                claims = {**info, **claims, "email": info.get("email"), "email_verified": info.get("email_verified")}
    if provider.settings.oidc_require_verified_email and claims.get("email_verified") is not True:
        raise SsoError("The email address is not verified by the OIDC provider.")
    return ExternalIdentity(
        provider=PROVIDER,
        issuer=provider.issuer,
        subject=str(claims["sub"]),
        email=str(claims.get("email") or ""),
        first_name=str(claims.get("given_name") or ""),
        last_name=str(claims.get("family_name") or ""),
    )
