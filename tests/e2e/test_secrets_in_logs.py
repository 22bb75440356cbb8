"""The real suite's log files (every service, the gateway, the first start's steps) hold
neither the admin password the stack was booted with nor the tokens of a login and a
refresh made through the gateway."""

from __future__ import annotations

from .conftest import login


async def test_no_admin_password_or_token_in_any_log_file(api, stack) -> None:  # type: ignore[no-untyped-def]
    body = await login(api, stack.admin_email, stack.admin_password)
    r = await api.get("/auth/refresh-token", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert r.status_code == 200, r.text
    r = await api.get("/data/projects", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert r.status_code == 200, r.text
    secrets = {"admin password": stack.admin_password, "access token": body["access_token"],
               "refresh token": body["refresh_token"], "refreshed access token": r.request.headers["authorization"][7:]}
    logs = sorted((stack.home / "logs").glob("*.log"))
    assert {path.stem for path in logs} >= {"create-admin", "auth", "gateway"}
    for path in logs:
        text = path.read_text(errors="replace")
        for name, secret in secrets.items():
            assert secret not in text, f"{name} in {path.name}"
