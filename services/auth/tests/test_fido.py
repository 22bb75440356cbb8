"""FIDO2/WebAuthn devices driven by a software authenticator: register, list, log in
with the second factor, unregister; replayed, forged and cloned answers are refused,
and credentials never show in responses."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from .conftest import ADMIN, login_headers, make_person
from .soft_authenticator import SoftAuthenticator

pytestmark = pytest.mark.slow  # see pytest.ini

PASSWORD = "fido password 123"


def origin_of(client: httpx.AsyncClient) -> str:
    return client.app.state.auth_settings.public_origin  # type: ignore[attr-defined, no-any-return]


def rp_id_of(client: httpx.AsyncClient) -> str:
    return client.app.state.auth_settings.effective_fido_rp_id  # type: ignore[attr-defined, no-any-return]


async def new_person(client: httpx.AsyncClient) -> tuple[str, str, dict[str, str]]:
    email = f"fido-{uuid.uuid4().hex[:8]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    return email, str(person.id), await login_headers(client, email, PASSWORD)


async def register(client: httpx.AsyncClient, h: dict[str, str], key: SoftAuthenticator, name: str) -> httpx.Response:
    options = await client.put("/auth/fido", headers=h)
    assert options.status_code == 200, options.text
    return await client.post("/auth/fido", headers=h,
                             json={"registration_response": key.register(options.json()), "device_name": name})


async def challenge(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    r = await client.get("/auth/fido", params={"email": email})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def fido_login(client: httpx.AsyncClient, email: str, response: dict[str, Any]) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": PASSWORD,
                                                  "fido_authentication_response": response})


async def me(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/auth/authenticated", headers=h)
    assert r.status_code == 200, r.text
    return r.json()["user"]  # type: ignore[no-any-return]


WRONG = {"error": True, "login": False, "wrong_OTP": True, "message": "Wrong two-factor authentication code."}


async def test_register_list_and_log_in_with_a_device(client) -> None:  # type: ignore[no-untyped-def]
    email, person_id, h = await new_person(client)
    key = SoftAuthenticator(origin=origin_of(client))
    options = (await client.put("/auth/fido", headers=h)).json()
    assert options["rp"] == {"name": "Kitsu", "id": rp_id_of(client)}
    assert options["user"]["name"] == email and options["user"]["displayName"] == f"{email.split('@')[0].title()} Test"
    assert base64.urlsafe_b64decode(options["user"]["id"] + "==").decode() == person_id
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -35, -36, -37, -257, -47]
    assert options["excludeCredentials"] == []
    assert options["authenticatorSelection"] == {"authenticatorAttachment": "cross-platform", "residentKey": "discouraged",
                                                 "userVerification": "preferred", "requireResidentKey": False}
    r = await client.post("/auth/fido", headers=h, json={"registration_response": key.register(options), "device_name": "yubikey"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"otp_recovery_codes", "access_token", "refresh_token"}
    assert len(body["otp_recovery_codes"]) == 16
    user = await me(client, h)
    assert user["fido_enabled"] is True and user["preferred_two_factor_authentication"] == "fido"
    assert user["fido_devices"] == ["yubikey"]

    second = SoftAuthenticator(origin=origin_of(client))
    options = (await client.put("/auth/fido", headers=h)).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [base64.urlsafe_b64encode(key.credential_id).decode().rstrip("=")]
    r = await client.post("/auth/fido", headers=h, json={"registration_response": second.register(options), "device_name": "backup"})
    assert r.status_code == 200 and r.json()["otp_recovery_codes"] is None
    assert (await me(client, h))["fido_devices"] == ["yubikey", "backup"]

    # The login now wants the second factor, and takes a signed challenge.
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 400 and r.json() == {
        "error": True, "login": False, "missing_OTP": True,
        "message": "A two-factor authentication code is required.",
        "preferred_two_factor_authentication": "fido",
        "two_factor_authentication_enabled": ["recovery_code", "fido"],
    }
    request = await challenge(client, email.upper())
    assert set(request) == {"challenge", "rpId", "allowCredentials"} and request["rpId"] == rp_id_of(client)
    assert len(request["allowCredentials"]) == 2
    r = await fido_login(client, email, second.authenticate(request))
    assert r.status_code == 200, r.text
    assert r.json()["login"] is True and r.json()["user"]["id"] == person_id
    r = await fido_login(client, email, key.authenticate(await challenge(client, email)))
    assert r.status_code == 200 and r.json()["login"] is True


async def test_replayed_forged_and_cloned_assertions_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    email, _, h = await new_person(client)
    key = SoftAuthenticator(origin=origin_of(client))
    assert (await register(client, h, key, "key")).status_code == 200

    answer = key.authenticate(await challenge(client, email))
    assert (await fido_login(client, email, answer)).status_code == 200
    replay = await fido_login(client, email, answer)  # the same answer again: its challenge is spent
    assert replay.status_code == 400 and replay.json() == WRONG

    forged = key.authenticate(await challenge(client, email))
    signature = bytearray(base64.urlsafe_b64decode(forged["response"]["signature"] + "=="))
    signature[-1] ^= 0x01
    forged["response"]["signature"] = base64.urlsafe_b64encode(bytes(signature)).decode().rstrip("=")
    assert (await fido_login(client, email, forged)).json() == WRONG
    # (a good login between refusals, so that the failed-login lockout stays out of the way)
    assert (await fido_login(client, email, key.authenticate(await challenge(client, email)))).status_code == 200

    # A challenge the server never gave, signed correctly.
    unasked = key.authenticate(await challenge(client, email), challenge=uuid.uuid4().bytes * 2)
    assert (await fido_login(client, email, unasked)).json() == WRONG

    # Another site's origin (phishing) is refused.
    phished = SoftAuthenticator(origin="https://kitsu.evil.test", rp_id=rp_id_of(client))
    phished.key, phished.credential_id, phished.counter = key.key, key.credential_id, key.counter
    assert (await fido_login(client, email, phished.authenticate(await challenge(client, email)))).json() == WRONG
    assert (await fido_login(client, email, key.authenticate(await challenge(client, email)))).status_code == 200

    # A clone of the key whose counter lags behind is refused.
    key.counter = 0
    assert (await fido_login(client, email, key.authenticate(await challenge(client, email)))).json() == WRONG
    key.counter = 100
    ok = await fido_login(client, email, key.authenticate(await challenge(client, email)))
    assert ok.status_code == 200

    # A second pending challenge does not void the first (no lock-out by asking for challenges).
    first, _other = await challenge(client, email), await challenge(client, email)
    assert (await fido_login(client, email, key.authenticate(first))).status_code == 200

    r = await fido_login(client, email, {"not": "a webauthn answer"})
    assert r.status_code == 400 and r.json() == WRONG


async def test_registration_is_checked(client) -> None:  # type: ignore[no-untyped-def]
    _, _, h = await new_person(client)
    key = SoftAuthenticator(origin=origin_of(client))
    options = (await client.put("/auth/fido", headers=h)).json()
    response = key.register(options)
    assert (await client.post("/auth/fido", headers=h, json={"registration_response": response, "device_name": "a"})).status_code == 200
    again = await client.post("/auth/fido", headers=h, json={"registration_response": response, "device_name": "b"})
    assert again.status_code == 400 and again.json()["message"].startswith("No FIDO registration was started")
    other = SoftAuthenticator(origin=origin_of(client))
    r = await register(client, h, other, "a")
    assert r.status_code == 400 and r.json() == {"error": True, "message": "A FIDO device with this name is already registered."}
    bad_origin = SoftAuthenticator(origin="https://kitsu.evil.test", rp_id=rp_id_of(client))
    r = await register(client, h, bad_origin, "c")
    assert r.status_code == 400
    assert r.json() == {"error": True, "message": "FIDO registration failed: the registration response is invalid."}
    r = await client.post("/auth/fido", headers=h, json={"registration_response": {"id": "x"}, "device_name": "d"})
    assert r.status_code == 400 and r.json()["message"] == "FIDO registration failed: the registration response is invalid."
    r = await client.post("/auth/fido", headers=h, json={})
    assert r.status_code == 400 and r.json()["data"]["errors"] == [
        {"field": "registration_response", "message": "Field required"},
        {"field": "device_name", "message": "Field required"},
    ]
    assert (await me(client, h))["fido_devices"] == ["a"]
    client.cookies.clear()  # logins set cookies on the shared client; this call carries none
    assert (await client.put("/auth/fido")).status_code == 401


async def test_challenge_for_a_person_without_fido(client) -> None:  # type: ignore[no-untyped-def]
    email, _, _ = await new_person(client)
    for address in (email, "nobody@studio.test"):
        r = await client.get("/auth/fido", params={"email": address})
        assert r.status_code == 400 and r.json() == {"error": True, "message": "FIDO not enabled."}
    r = await client.get("/auth/fido")
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Missing required parameter: email", "data": None}


async def test_unregister_needs_a_second_factor_and_the_last_one_turns_fido_off(client) -> None:  # type: ignore[no-untyped-def]
    email, _, h = await new_person(client)
    key, spare = SoftAuthenticator(origin=origin_of(client)), SoftAuthenticator(origin=origin_of(client))
    await register(client, h, key, "main")
    await register(client, h, spare, "spare")
    r = await client.request("DELETE", "/auth/fido", headers=h, json={"device_name": "spare"})
    assert r.status_code == 400 and r.json() == {"error": True, "message": "OTP verification failed.", "wrong_OTP": True}
    # no body at all: Zou's validation error names the missing field
    r = await client.request("DELETE", "/auth/fido", headers=h)
    assert r.status_code == 400 and r.json()["data"]["errors"] == [{"field": "device_name", "message": "Field required"}]
    r = await client.request("DELETE", "/auth/fido", headers=h, json={
        "device_name": "spare", "fido_authentication_response": spare.authenticate(await challenge(client, email))})
    assert r.status_code == 200 and r.json() == {"success": True}
    assert (await me(client, h))["fido_devices"] == ["main"]
    request = await challenge(client, email)
    assert len(request["allowCredentials"]) == 1
    # The removed device no longer logs in.
    assert (await fido_login(client, email, spare.authenticate(request))).json() == WRONG
    r = await client.request("DELETE", "/auth/fido", headers=h, json={
        "device_name": "main", "fido_authentication_response": key.authenticate(await challenge(client, email))})
    assert r.status_code == 200
    user = await me(client, h)
    assert user["fido_enabled"] is False and user["preferred_two_factor_authentication"] is None
    assert user["fido_devices"] == []
    r = await client.get("/auth/fido", params={"email": email})
    assert r.status_code == 400 and r.json() == {"error": True, "message": "FIDO not enabled."}
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["login"] is True
    r = await client.request("DELETE", "/auth/fido", headers=h, json={"device_name": "main"})
    assert r.status_code == 400 and r.json() == {"error": True, "message": "FIDO not enabled."}


async def test_credentials_never_appear_in_responses(client) -> None:  # type: ignore[no-untyped-def]
    email, person_id, h = await new_person(client)
    key = SoftAuthenticator(origin=origin_of(client))
    r = await register(client, h, key, "secret-key")
    assert r.status_code == 200
    await fido_login(client, email, key.authenticate(await challenge(client, email)))
    credential_id = base64.urlsafe_b64encode(key.credential_id).decode().rstrip("=")
    public_point = key.key.public_key().public_numbers().x.to_bytes(32, "big")
    secrets = [credential_id, base64.urlsafe_b64encode(public_point).decode().rstrip("="),
               base64.b64encode(public_point).decode().rstrip("="), "fido_credentials", "sign_count", "credential_data"]
    reader_email = f"reader-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, reader_email, PASSWORD)
    reader = await login_headers(client, reader_email, PASSWORD)
    admin = await login_headers(client, *ADMIN)
    seen = [
        await client.get("/data/persons", headers=reader),
        await client.get(f"/data/persons/{person_id}", headers=reader),
        await client.get("/data/persons", headers=admin),
        await client.get(f"/data/persons/{person_id}", headers=admin),
        await client.get("/auth/authenticated", headers=h),
        await client.put(f"/data/persons/{person_id}", headers=admin, json={"phone": "0102"}),
    ]
    for response in seen:
        assert response.status_code == 200, response.text
        for secret in secrets:
            assert secret not in response.text, (response.request.url, secret)
    assert any(p.get("id") == person_id for p in seen[0].json())
    assert seen[3].json()["fido_enabled"] is True


async def test_admin_disabling_two_factor_forgets_the_devices(client) -> None:  # type: ignore[no-untyped-def]
    email, person_id, h = await new_person(client)
    key = SoftAuthenticator(origin=origin_of(client))
    await register(client, h, key, "key")
    admin = await login_headers(client, *ADMIN)
    r = await client.delete(f"/actions/persons/{person_id}/disable-two-factor-authentication", headers=admin)
    assert r.status_code == 200, r.text
    user = await me(client, h)
    assert user["fido_enabled"] is False and user["fido_devices"] == []
    r = await client.get("/auth/fido", params={"email": email})
    assert r.status_code == 400 and r.json() == {"error": True, "message": "FIDO not enabled."}
    # Registering again starts from nothing: the old key is not excluded.
    options = (await client.put("/auth/fido", headers=h)).json()
    assert options["excludeCredentials"] == []
