"""Token verification refuses every forged or misused token (no infrastructure needed)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from slate_common.errors import InvalidToken, Unauthorized
from slate_common.security import RevocationView, TokenVerifier
from slate_common.testing import Clock

KID = "k1"
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = PRIVATE.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": str(uuid.uuid4()), "role": "user", "type": "access", "jti": str(uuid.uuid4()),
        "iat": now, "nbf": now, "exp": now + 600, "aud": "slate", "iss": "slate-auth",
    }
    base.update(over)
    return base


def sign(payload: dict[str, Any], key: Any = PRIVATE, alg: str = "RS256", kid: str = KID) -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(
        audience="slate", issuer="slate-auth", key_provider=lambda: {KID: PRIVATE.public_key()}, leeway=0
    )


def test_valid_token_gives_principal(verifier: TokenVerifier) -> None:
    c = claims(role="manager")
    principal = verifier.principal(sign(c))
    assert str(principal.id) == c["sub"]
    assert principal.role == "manager"
    assert principal.jti == c["jti"]
    assert principal.is_manager and not principal.is_admin


def _b64(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': KID})}.{_b64(claims())}."
    with pytest.raises(InvalidToken) as exc:
        verifier.principal(token)
    assert exc.value.status_code == 422


def test_hs256_signed_with_the_public_key_is_refused(verifier: TokenVerifier) -> None:
    # The classic confusion attack: HMAC keyed with the server's public key.
    import hashlib
    import hmac

    header = _b64({"alg": "HS256", "typ": "JWT", "kid": KID})
    body = _b64(claims(role="admin"))
    sig = hmac.new(PUBLIC_PEM, f"{header}.{body}".encode(), hashlib.sha256).digest()
    token = f"{header}.{body}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    with pytest.raises(InvalidToken):
        verifier.principal(token)


def test_wrong_signing_key_is_refused(verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.principal(sign(claims(), key=OTHER))


def test_unknown_kid_is_refused(verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.principal(sign(claims(), kid="nope"))


def test_expired_token_is_refused_with_401(verifier: TokenVerifier) -> None:
    now = int(time.time())
    with pytest.raises(Unauthorized) as exc:
        verifier.principal(sign(claims(iat=now - 100, nbf=now - 100, exp=now - 10)))
    assert exc.value.status_code == 401
    assert exc.value.message == "Token has expired"


def test_not_yet_valid_token_is_refused(verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken) as exc:
        verifier.principal(sign(claims(nbf=int(time.time()) + 300)))
    assert "nbf" in exc.value.message


def test_wrong_audience_and_issuer_are_refused(verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.principal(sign(claims(aud="zou")))
    with pytest.raises(InvalidToken):
        verifier.principal(sign(claims(iss="someone-else")))


def test_missing_required_claim_is_refused(verifier: TokenVerifier) -> None:
    c = claims()
    del c["jti"]
    with pytest.raises(InvalidToken):
        verifier.principal(sign(c))


def test_refresh_token_is_not_an_access_token(verifier: TokenVerifier) -> None:
    token = sign(claims(type="refresh"))
    with pytest.raises(InvalidToken) as exc:
        verifier.principal(token)
    assert exc.value.message == "Only access tokens are allowed"
    assert verifier.principal(token, expected_type="refresh").token_type == "refresh"


def test_revoked_jti_and_person_cutoff() -> None:
    view = RevocationView()
    v = TokenVerifier(audience="slate", issuer="slate-auth",
                      key_provider=lambda: {KID: PRIVATE.public_key()}, revocations=view)
    c = claims()
    token = sign(c)
    assert v.principal(token).jti == c["jti"]
    view.jtis[c["jti"]] = time.time()
    with pytest.raises(Unauthorized) as exc:
        v.principal(token)
    assert exc.value.message == "Token has been revoked"
    # A person cutoff revokes tokens issued up to it, not later ones.
    other = claims(iat=int(time.time()) - 50)
    view.persons[other["sub"]] = time.time() - 10
    with pytest.raises(Unauthorized):
        v.principal(sign(other))
    fresh = claims(sub=other["sub"])
    assert v.principal(sign(fresh)).id == uuid.UUID(other["sub"])


def test_a_token_verified_once_is_still_checked_on_every_use() -> None:
    """The verified-signature cache spares the RSA check, not the time, type, key and
    revocation checks."""
    keys = {KID: PRIVATE.public_key()}
    revocations = RevocationView()
    clock = Clock(time.time())
    v = TokenVerifier(audience="slate", issuer="slate-auth", key_provider=lambda: dict(keys),
                      revocations=revocations, leeway=0, clock=clock)
    c = claims(exp=int(time.time()) + 2)
    token = sign(c)
    assert v.decode(token)["jti"] == c["jti"]
    assert token in v._verified
    assert v.decode(token)["jti"] == c["jti"]  # from the cache
    with pytest.raises(InvalidToken):
        v.decode(token, expected_type="refresh")
    revocations.jtis[c["jti"]] = time.time()
    with pytest.raises(Unauthorized, match="revoked"):
        v.decode(token)
    del revocations.jtis[c["jti"]]
    assert v.decode(token)["jti"] == c["jti"]  # still cached and valid just before its expiry
    clock.advance(2.1)
    with pytest.raises(Unauthorized, match="expired"):
        v.decode(token)
    assert token not in v._verified


def test_a_cached_token_dies_with_its_key() -> None:
    v = TokenVerifier(audience="slate", issuer="slate-auth", jwks_url="http://127.0.0.1:9/jwks.json", leeway=0)
    v._keys = {KID: PRIVATE.public_key()}
    v._fetched_at = time.monotonic()
    token = sign(claims())
    assert v.decode(token)["sub"]
    v._keys = {"k2": OTHER.public_key()}  # the key was withdrawn from the JWKS
    v._fetched_at = time.monotonic()  # fresh: no refetch within 3 s
    with pytest.raises(InvalidToken, match="Unknown token key"):
        v.decode(token)
