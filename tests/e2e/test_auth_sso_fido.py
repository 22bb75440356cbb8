"""SSO and FIDO routes through the gateway: SSO answers Zou's error while disabled (the
stack's default); a FIDO device registers and logs a person in, with a software
authenticator, over /api."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

from .conftest import db_fetch, login

_spec = importlib.util.spec_from_file_location(
    "slate_e2e_soft_authenticator",
    Path(__file__).resolve().parents[2] / "services" / "auth" / "tests" / "soft_authenticator.py",
)
assert _spec is not None and _spec.loader is not None
soft_authenticator: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soft_authenticator)


async def test_sso_is_disabled_by_default_through_the_gateway(api) -> None:  # type: ignore[no-untyped-def]
    r = await api.get("/auth/saml/login")
    assert r.status_code == 400 and r.json() == {"error": "SAML is not enabled."}
    r = await api.post("/auth/saml/sso", data={"SAMLResponse": "x"})
    assert r.status_code == 400 and r.json() == {"error": "SAML is not enabled."}
    for path in ("/auth/oidc/login", "/auth/oidc/callback"):
        r = await api.get(path)
        assert r.status_code == 400 and r.json() == {"error": "OIDC is not enabled."}


async def test_fido_device_logs_in_through_the_gateway(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    email, password = f"fido-e2e-{uuid.uuid4().hex[:6]}@studio.test", "fido e2e password 1"
    r = await api.post("/data/persons", json={"email": email, "first_name": "Fido", "last_name": "Gateway"},
                       headers=admin)
    assert r.status_code == 201, r.text
    from slate_auth.domain.passwords import hash_password

    # The password is set in auth's database (the admin route for it belongs to other work).
    await db_fetch(stack, "slate_auth", "update person set password=$1 where id=$2",
                   hash_password(password), uuid.UUID(r.json()["id"]))
    h = {"Authorization": f"Bearer {(await login(api, email, password))['access_token']}"}
    options = (await api.put("/auth/fido", headers=h)).json()
    key = soft_authenticator.SoftAuthenticator(origin=f"https://{options['rp']['id']}")
    r = await api.post("/auth/fido", headers=h, json={"registration_response": key.register(options),
                                                      "device_name": "gateway key"})
    assert r.status_code == 200 and len(r.json()["otp_recovery_codes"]) == 16
    assert (await api.get("/auth/authenticated", headers=h)).json()["user"]["fido_devices"] == ["gateway key"]
    r = await api.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 400 and r.json()["missing_OTP"] is True
    request = (await api.get("/auth/fido", params={"email": email})).json()
    r = await api.post("/auth/login", json={"email": email, "password": password,
                                            "fido_authentication_response": key.authenticate(request)})
    assert r.status_code == 200 and r.json()["login"] is True and r.json()["user"]["email"] == email
