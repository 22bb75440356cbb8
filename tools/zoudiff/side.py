"""One side of the comparison: a server (the Zou oracle or Slate), its logins per role,
and its *world* — the symbolic name of every seeded thing and its id on this side.

Both sides are seeded with the same symbols (``project``, ``shot``, ``person:artist``...),
so an id in an answer is compared by the symbol it maps to, never by its value.
"""

from __future__ import annotations

import http.cookiejar
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: Roles every route is called as. ``user`` is Zou's name of the artist role; ``outsider``
#: is an artist who is in no project team (the permission matrix of issue 17 needs it).
ROLES: tuple[str, ...] = ("admin", "manager", "supervisor", "artist", "client", "vendor", "outsider", "anonymous")
ZOU_ROLE = {
    "admin": "admin",
    "manager": "manager",
    "supervisor": "supervisor",
    "artist": "user",
    "client": "client",
    "vendor": "vendor",
    "outsider": "user",
}
#: The second column of the permission matrix (issue 17 part 3): the same roles on the
#: things of ``project:other``, a project whose team holds nobody (``artist@other`` is the
#: artist, in the first project's team only, reading or changing the other project's data).
OTHER = "@other"
COLUMNS: tuple[str, ...] = ROLES + tuple(role + OTHER for role in ROLES if role != "anonymous")
PASSWORD = "zoudiff-pass-0123"


def base_role(role: str) -> str:
    """The login behind a column: ``artist@other`` logs in as ``artist``."""
    return role.split("@", 1)[0]


class SeedError(RuntimeError):
    """A seeding call failed: the world cannot be built on this side."""


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    seconds: float

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Side:
    name: str  # "zou" or "slate"
    base_url: str
    admin_email: str
    admin_password: str
    timeout: float = 30.0
    world: dict[str, str] = field(default_factory=dict)  # symbol -> id
    tokens: dict[str, str] = field(default_factory=dict)  # role -> access token
    emails: dict[str, str] = field(default_factory=dict)  # role -> email
    #: Calls answered 404 and then not, a moment later: a replica behind a write the client
    #: had seen answered, which the consistency guarantee (docs/consistency.md) forbids.
    #: The CI test fails on any (docs/differential.md).
    lagged: list[str] = field(default_factory=list)
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        # no cookie ever kept: a login's cookies would turn later calls (anonymous ones too,
        # from any thread) into that person's
        jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.client = httpx.Client(base_url=self.base_url.rstrip("/"), timeout=self.timeout, cookies=jar,
                                   limits=httpx.Limits(max_connections=16))

    # -- world ----------------------------------------------------------------------------
    def set(self, symbol: str, ident: str) -> str:
        self.world[symbol] = ident
        return ident

    def id(self, symbol: str) -> str:
        return self.world[symbol]

    def symbols(self) -> dict[str, str]:
        """id -> symbol (the first symbol given to an id wins)."""
        out: dict[str, str] = {}
        for sym, ident in list(self.world.items()):  # fresh targets are added by other threads
            out.setdefault(ident, sym)
        return out

    # -- http -----------------------------------------------------------------------------
    def login(self, role: str, email: str, password: str) -> str:
        r = self.client.post("/auth/login", json={"email": email, "password": password})
        if r.status_code != 200:
            raise SeedError(f"{self.name}: login of {role} ({email}) answered {r.status_code}: {r.text[:200]}")
        token = r.json()["access_token"]
        self.tokens[role] = token
        self.emails[role] = email
        return str(token)

    def headers(self, role: str) -> dict[str, str]:
        role = base_role(role)
        if role == "anonymous" or role not in self.tokens:
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(
        self,
        method: str,
        path: str,
        role: str = "admin",
        *,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        hdrs = self.headers(role) | (headers or {})
        started = time.monotonic()
        for attempt in range(3):
            try:
                r = self.client.request(method, path, json=json, files=files, data=data, headers=hdrs)
                break
            except httpx.TimeoutException:
                return Answer(598, "", b"", time.monotonic() - started)
            except httpx.TransportError:
                if attempt == 2:
                    return Answer(599, "", b"", time.monotonic() - started)
                time.sleep(0.5)
        ctype = r.headers.get("content-type", "").split(";")[0].strip().lower()
        return Answer(r.status_code, ctype, r.content, time.monotonic() - started)

    def must(self, method: str, path: str, role: str = "admin", **kw: Any) -> Any:
        """A seeding call: 2xx or :class:`SeedError`; returns the JSON body.

        A 404 is asked again for up to 10 s, so that the run goes on; one that then
        succeeds is a replica behind a write, noted in ``lagged``."""
        a = self.call(method, path, role, **kw)
        started = time.monotonic()
        while a.status == 404 and time.monotonic() < started + 10:
            time.sleep(0.5)
            a = self.call(method, path, role, **kw)
            if a.status != 404:
                self.lagged.append(f"seeding {method} {path} as {role}: 404 for {time.monotonic() - started:.1f}s, "
                                   f"then {a.status}")
        if not 200 <= a.status < 300:
            raise SeedError(f"{self.name}: {method} {path} as {role} answered {a.status}: {a.body[:300]!r}")
        try:
            return a.json()
        except ValueError:
            return None

    def close(self) -> None:
        self.client.close()
