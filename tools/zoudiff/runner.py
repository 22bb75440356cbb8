"""Run the planned calls on one side and turn each answer into a record."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

from .plan import LITERAL_PARAMS, NOWHERE, Call, credentials, other_symbol
from .seed import Seeder, png_bytes
from .shape import SHALLOW, record
from .side import Answer, Side

PLACEHOLDER = re.compile(r"\{(uniq|uniq_email|uniq_short|email|password)\}")


class Runner:
    """Calls on one seeded side; ``records[call.key]`` is what it answered."""

    def __init__(self, side: Side, seeder: Seeder, log: Callable[[str], None] = print,
                 expected: dict[str, dict[str, Any]] | None = None) -> None:
        self.side = side
        self.expected = expected or {}
        #: Calls answered 404 on a fresh target where Zou succeeded, the same a second later:
        #: Slate's steady answer (an intentional 404, or a gap), compared as it is.
        self.steady_404s: list[str] = []
        self.seeder = seeder
        self.log = log
        self.records: dict[str, dict[str, Any]] = {}
        self.fresh_failed: list[str] = []

    # -- resolving symbols --------------------------------------------------------------
    def resolve_symbol(self, symbol: str, call: Call, slot: str) -> str:
        if symbol.startswith("fresh:"):
            kind = symbol.split(":", 1)[1]
            name = f"fresh:{kind}:{call.key}:{slot}"
            ident = self.side.world.get(name) or self.seeder.fresh(kind, name, other=call.other)
            if ident is None:
                self.fresh_failed.append(f"{call.key} {kind}")
                return NOWHERE
            return ident
        if call.other:
            symbol = other_symbol(symbol)
        return self.side.world.get(symbol, NOWHERE)

    def resolve(self, value: Any, call: Call, slot: str = "body") -> Any:
        if isinstance(value, str):
            if value.startswith("@"):
                return self.resolve_symbol(value[1:], call, slot)
            return PLACEHOLDER.sub(lambda m: self.placeholder(m.group(1), call), value)
        if isinstance(value, list):
            return [self.resolve(v, call, f"{slot}{i}") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.resolve(v, call, f"{slot}.{k}") for k, v in value.items()}
        return value

    def placeholder(self, name: str, call: Call) -> str:
        if name in ("email", "password"):
            email, password = credentials(call.login_role, self.side.emails, self.side.admin_password)
            return email if name == "email" else password
        text = self.seeder.uniq("zd")
        if name == "uniq_email":
            return text.replace(" ", "-").lower() + "@example.com"
        if name == "uniq_short":
            return "z" + text.rsplit("-", 1)[-1][-5:] + call.role[:2]
        return text

    def path(self, call: Call) -> str:
        path = call.route.path
        for name, symbol in call.params.items():
            if name in call.fresh:
                value = self.resolve_symbol("fresh:" + call.fresh[name], call, name)
            elif symbol == "":
                value = NOWHERE
            elif name in LITERAL_PARAMS:
                value = symbol
            else:
                value = self.resolve_symbol(symbol, call, name)
            path = path.replace("{" + name + "}", value, 1)
        return path

    # -- calling --------------------------------------------------------------------------
    def run(self, calls: list[Call], workers: int = int(os.environ.get("ZOUDIFF_WORKERS", "8"))) -> None:
        """Phase by phase (reads, writes, deletes), routes in parallel; the roles of one
        route in order, so a call that depends on an earlier one sees the same state on
        both sides."""
        started = time.monotonic()
        done = 0
        for phase in sorted({c.phase for c in calls}):
            groups: dict[str, list[Call]] = {}
            for call in calls:
                if call.phase == phase:
                    groups.setdefault(call.route.key, []).append(call)
            with ThreadPoolExecutor(workers) as pool:
                for n in pool.map(self.run_group, groups.values()):
                    done += n
            self.log(f"{self.side.name}: {done}/{len(calls)} calls in {time.monotonic() - started:.0f}s")

    def run_group(self, calls: list[Call]) -> int:
        for call in calls:
            try:
                self.records[call.key] = self.run_one(call)
            except Exception as exc:  # noqa: BLE001 - one broken call must not end the run
                self.records[call.key] = {"status": 0, "ctype": "", "kind": "tool-error", "error": repr(exc)[:300]}
        return len(calls)

    def run_one(self, call: Call) -> dict[str, Any]:
        side = self.side
        path = self.path(call)
        if "query" in call.body:
            path += "?" + urlencode(self.resolve(call.body["query"], call, "query"))
        kwargs: dict[str, Any] = {}
        if "json" in call.body:
            kwargs["json"] = self.resolve(call.body["json"], call)
        if "files" in call.body:
            kwargs["files"] = {"file": ("upload.png", png_bytes((120, 60, 200)), "image/png")}
        headers = None
        if call.own_login and call.login_role != "anonymous":
            email, password = credentials(call.login_role, side.emails, side.admin_password)
            r = side.client.post("/auth/login", json={"email": email, "password": password})
            if r.status_code == 200:
                headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        answer = side.call(call.route.method, path, call.role, headers=headers, **kwargs)
        if answer.status == 404 and self.made_fresh(call) and self.expected.get(call.key, {}).get("status", 404) < 300:
            # a target made a moment ago (by another service, often) that Slate says is not
            # there: asked once more a second later. Another answer then is a replica behind
            # a write the tool had seen answered, which clients must never see
            # (docs/consistency.md): noted in side.lagged (the CI test fails on it) and
            # compared with the later answer; the same 404 is Slate's answer, compared as is.
            time.sleep(1.0)
            again = side.call(call.route.method, path, call.role, headers=headers, **kwargs)
            if again.status == 404:
                self.steady_404s.append(call.key)
            else:
                side.lagged.append(f"{call.key}: 404, then {again.status} a second later")
                answer = again
        if path.startswith("/pictures/preview-files/") and answer.status < 300 and answer.content_type == "application/json":
            answer = self.settle_preview(answer)
        return record(answer, side.symbols(), SHALLOW.get(call.route.key, 16))

    def made_fresh(self, call: Call) -> bool:
        return bool(call.fresh) or "@fresh:" in json.dumps(call.body)

    def settle_preview(self, answer: Answer, timeout: float = 30.0) -> Answer:
        """A preview answered while processing (Slate transcodes after the request; Zou
        within it) is compared in the state it reaches: poll it until ready or broken."""
        try:
            body = json.loads(answer.body)
        except ValueError:
            return answer
        if not (isinstance(body, dict) and body.get("type") == "PreviewFile" and body.get("status") == "processing"):
            return answer
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.3)
            polled = self.side.call("GET", f"/data/preview-files/{body['id']}")
            status = polled.json().get("status") if polled.status == 200 else None
            if status in ("ready", "broken"):
                body["status"] = status
                break
        return Answer(answer.status, answer.content_type, json.dumps(body).encode(), answer.seconds)
