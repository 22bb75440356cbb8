"""Seed a production through the public Zou API: the same script and data for Slate and Zou.

One project (a TV show), 2 episodes, 20 sequences, 1,000 shots, 300 assets, 8 task types
(4 for assets, 4 for shots: 5,200 tasks), 40 persons in the team (2 managers, 4
supervisors, 34 artists) each task assigned to one artist, and 2,000 comments with a
status change on 2,000 tasks. Everything goes through HTTP with an admin token, several
requests in flight at once, and through Zou's batch routes where it has them
(create-tasks per task type, assign many tasks to a person, comment-many); when a target
does not serve a batch route (404/405) the same rows are created one request at a time
and the fallback is recorded. Nothing here knows which product it talks to.

    python bench/production_seed.py --url http://127.0.0.1:8080/api --email ... --password ...

The result (``SeedResult``) carries the ids the load mix needs and the time of each step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
import orjson

ARTIST_PASSWORD = "bench-artist-password-1"


@dataclass(frozen=True)
class Scale:
    episodes: int = 2
    sequences_per_episode: int = 10
    shots_per_sequence: int = 50
    assets_per_type: int = 75  # 4 asset types
    managers: int = 2
    supervisors: int = 4
    artists: int = 34
    comments: int = 2000

    @classmethod
    def tiny(cls) -> Scale:
        return cls(episodes=1, sequences_per_episode=2, shots_per_sequence=3, assets_per_type=1,
                   managers=1, supervisors=1, artists=2, comments=6)


ASSET_TYPES = ("Character", "Prop", "Environment", "FX")
ASSET_TASK_TYPES = ("Concept", "Modeling", "Shading", "Rigging")
SHOT_TASK_TYPES = ("Layout", "Animation", "Lighting", "Compositing")
# short name -> (name, flags): the statuses the seed and the mix use
STATUSES: dict[str, tuple[str, dict[str, Any]]] = {
    "todo": ("Todo", {"is_default": True}),
    "wip": ("Work In Progress", {}),
    "wfa": ("Waiting For Approval", {"is_feedback_request": True}),
    "retake": ("Retake", {"is_retake": True}),
    "done": ("Done", {"is_done": True}),
}
# status of the 2,000 seeded comments (Done tasks leave the artists' todo lists)
COMMENT_STATUS_WEIGHTS = {"wip": 40, "wfa": 25, "retake": 15, "done": 20}


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {body[:300]}")
        self.status = status


class Api:
    """A thin aiohttp client: JSON in and out, one bearer token, errors as ApiError."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str | None = None) -> None:
        self.session = session
        self.base = base.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.requests = 0

    def with_token(self, token: str) -> Api:
        return Api(self.session, self.base, token)

    async def call(self, method: str, path: str, body: Any = None, *, ok: Iterable[int] = (200, 201)) -> Any:
        data = orjson.dumps(body) if body is not None else None
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        self.requests += 1
        async with self.session.request(method, self.base + path, data=data, headers=headers) as r:
            raw = await r.read()
            if r.status not in ok:
                raise ApiError(method, path, r.status, raw.decode(errors="replace"))
            return orjson.loads(raw) if raw else None

    async def get(self, path: str) -> Any:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.call("POST", path, {} if body is None else body)

    async def put(self, path: str, body: Any) -> Any:
        return await self.call("PUT", path, body)

    async def login(self, email: str, password: str) -> str:
        body = await self.call("POST", "/auth/login", {"email": email, "password": password})
        return str(body["access_token"])


def new_session(limit: int = 64) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, force_close=False),
        timeout=aiohttp.ClientTimeout(total=600),
        json_serialize=lambda o: orjson.dumps(o).decode(),
    )


async def gather_limited(n: int, items: Iterable[Any], fn: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """fn(item) for every item, at most n at a time, results in order."""
    sem = asyncio.Semaphore(n)

    async def one(item: Any) -> Any:
        async with sem:
            return await fn(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


def missing_route(exc: ApiError) -> bool:
    return exc.status in (404, 405)


@dataclass
class SeedResult:
    base: str
    project_id: str = ""
    episode_ids: list[str] = field(default_factory=list)
    sequence_ids: list[str] = field(default_factory=list)
    shot_ids: list[str] = field(default_factory=list)
    asset_ids: list[str] = field(default_factory=list)
    task_type_ids: dict[str, str] = field(default_factory=dict)
    status_ids: dict[str, str] = field(default_factory=dict)
    # person id -> {"email", "role", "task_ids"}
    persons: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: list[dict[str, str]] = field(default_factory=list)  # {"id", "entity_id", "kind", "assignee"}
    commented_task_ids: list[str] = field(default_factory=list)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> seconds, requests, via
    counts: dict[str, int] = field(default_factory=dict)
    failed: str | None = None

    @property
    def seconds(self) -> float:
        return round(sum(s["seconds"] for s in self.steps.values()), 3)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = self.seconds
        return out


class Seeder:
    def __init__(self, api: Api, scale: Scale, *, concurrency: int = 8, seed: int = 20261123,
                 tag: str = "bench") -> None:
        self.api = api
        self.scale = scale
        self.n = concurrency
        self.rng = random.Random(seed)
        self.tag = tag
        self.r = SeedResult(base=api.base)
        self._asset_type_ids: dict[str, str] = {}

    async def step(self, name: str, coro: Awaitable[str | None]) -> None:
        """Run one step; a refusal (a route the target does not serve) is recorded, the seed goes on."""
        before = self.api.requests
        t0 = time.perf_counter()
        error = None
        try:
            via = await coro
        except (ApiError, KeyError) as exc:  # KeyError: an earlier step could not make what this one needs
            via, error = f"FAILED: {exc!r}" if isinstance(exc, KeyError) else f"FAILED: {exc}", str(exc)
            self.r.failed = self.r.failed or f"{name}: {exc}"
        self.r.steps[name] = {"seconds": round(time.perf_counter() - t0, 3),
                              "requests": self.api.requests - before, "via": via or ""}
        if error or (via or "").startswith("FAILED"):
            self.r.steps[name]["error"] = error or str(via)
        print(f"  seed {name:<14} {self.r.steps[name]['seconds']:8.2f} s  "
              f"{self.r.steps[name]['requests']:5d} requests {via or ''}", flush=True)

    async def run(self) -> SeedResult:
        await self.step("reference", self.reference())
        await self.step("persons", self.persons())
        await self.step("project", self.project())
        await self.step("episodes", self.episodes())
        await self.step("sequences", self.sequences())
        await self.step("shots", self.shots())
        await self.step("assets", self.assets())
        await self.step("tasks", self.tasks())
        await self.step("assign", self.assign())
        await self.step("comments", self.comments())
        await self.step("verify", self.verify())
        return self.r

    # -- steps --------------------------------------------------------------------------
    async def reference(self) -> str:
        """Task statuses, task types and asset types: reuse the target's defaults, create what is missing."""
        statuses = await self.api.get("/data/task-status")
        by_short = {s.get("short_name"): s for s in statuses}
        for short, (name, flags) in STATUSES.items():
            found = by_short.get(short)
            if found is None:
                found = await self.api.post("/data/task-status", {"name": name, "short_name": short,
                                                                   "color": "#999999", **flags})
            self.r.status_ids[short] = found["id"]
        types = await self.api.get("/data/task-types")
        by_key = {(t["name"], t.get("for_entity")): t for t in types}
        for names, for_entity in ((ASSET_TASK_TYPES, "Asset"), (SHOT_TASK_TYPES, "Shot")):
            for name in names:
                found = by_key.get((name, for_entity))
                if found is None:
                    found = await self.api.post("/data/task-types", {"name": name, "for_entity": for_entity,
                                                                      "color": "#888888"})
                self.r.task_type_ids[name] = found["id"]
        asset_types = {t["name"]: t for t in await self.api.get("/data/asset-types")}
        for name in ASSET_TYPES:
            found = asset_types.get(name) or await self.api.post("/data/entity-types", {"name": name})
            self._asset_type_ids[name] = found["id"]
        return "defaults reused where present"

    async def persons(self) -> str:
        s = self.scale
        roles = ["manager"] * s.managers + ["supervisor"] * s.supervisors + ["user"] * s.artists

        async def create(i_role: tuple[int, str]) -> None:
            i, role = i_role
            email = f"{self.tag}.person{i:02d}@bench.example"
            body = {"first_name": f"Person{i:02d}", "last_name": role.title(), "email": email,
                    "role": role, "password": ARTIST_PASSWORD}
            p = await self.api.post("/data/persons", body)
            self.r.persons[p["id"]] = {"email": email, "role": role, "task_ids": []}

        await gather_limited(self.n, enumerate(roles), create)
        # Zou stores the password given at creation; a target that does not gets it set
        # through the admin's change-password action, so that every person can log in
        first = next(iter(self.r.persons.values()))
        try:
            await self.api.with_token("").login(first["email"], ARTIST_PASSWORD)
            return ""
        except ApiError:
            pass
        body = {"password": ARTIST_PASSWORD, "password_2": ARTIST_PASSWORD}
        try:
            await gather_limited(self.n, list(self.r.persons), lambda p: self.api.post(
                f"/actions/persons/{p}/change-password", body))
        except ApiError as exc:
            raise ApiError("POST", "/data/persons (password given at creation is not usable, and "
                           "/actions/persons/{id}/change-password failed)", exc.status, str(exc)) from exc
        return "password set with /actions/persons/{id}/change-password (not taken at creation)"

    async def project(self) -> str:
        p = await self.api.post("/data/projects", {"name": f"{self.tag} production {int(time.time())}",
                                                   "production_type": "tvshow", "fps": "24"})
        pid = self.r.project_id = p["id"]
        calls = [("/settings/task-types", {"task_type_id": t}) for t in self.r.task_type_ids.values()]
        calls += [("/settings/task-status", {"task_status_id": t}) for t in self.r.status_ids.values()]
        calls += [("/settings/asset-types", {"asset_type_id": t}) for t in self._asset_type_ids.values()]
        calls += [("/team", {"person_id": person}) for person in self.r.persons]
        refused: dict[str, str] = {}

        async def call(c: tuple[str, dict[str, str]]) -> None:
            try:
                await self.api.post(f"/data/projects/{pid}{c[0]}", c[1])
            except ApiError as exc:
                refused[c[0]] = str(exc)

        await gather_limited(self.n, calls, call)
        if refused:
            self.r.failed = self.r.failed or "project: " + "; ".join(refused.values())
            return "FAILED: " + "; ".join(refused.values())
        return ""

    async def episodes(self) -> str:
        pid = self.r.project_id
        for e in range(self.scale.episodes):
            ep = await self.api.post(f"/data/projects/{pid}/episodes", {"name": f"E{e + 1:02d}"})
            self.r.episode_ids.append(ep["id"])
        return ""

    async def sequences(self) -> str:
        pid = self.r.project_id
        items = [(ep, f"SQ{e * 100 + q + 1:03d}") for e, ep in enumerate(self.r.episode_ids)
                 for q in range(self.scale.sequences_per_episode)]
        seqs = await gather_limited(self.n, items, lambda it: self.api.post(
            f"/data/projects/{pid}/sequences", {"name": it[1], "episode_id": it[0]}))
        self.r.sequence_ids = [s["id"] for s in seqs]
        return ""

    async def shots(self) -> str:
        pid = self.r.project_id
        items = [(seq, f"SH{k * 10 + 10:04d}", 24 + (k * 7) % 96) for seq in self.r.sequence_ids
                 for k in range(self.scale.shots_per_sequence)]
        shots = await gather_limited(self.n, items, lambda it: self.api.post(
            f"/data/projects/{pid}/shots",
            {"name": it[1], "sequence_id": it[0], "nb_frames": it[2], "description": f"shot {it[1]}"}))
        self.r.shot_ids = [s["id"] for s in shots]
        return ""

    async def assets(self) -> str:
        pid = self.r.project_id
        items = [(tid, f"{name} {k + 1:03d}") for name, tid in self._asset_type_ids.items()
                 for k in range(self.scale.assets_per_type)]
        assets = await gather_limited(self.n, items, lambda it: self.api.post(
            f"/data/projects/{pid}/asset-types/{it[0]}/assets/new",
            {"name": it[1], "description": f"asset {it[1]}", "data": {}}))
        self.r.asset_ids = [a["id"] for a in assets]
        return ""

    async def tasks(self) -> str:
        pid = self.r.project_id
        if not self.r.shot_ids and not self.r.asset_ids:
            raise KeyError("no shots nor assets to create tasks for")
        jobs = [(name, "shots", self.r.shot_ids) for name in SHOT_TASK_TYPES]
        jobs += [(name, "assets", self.r.asset_ids) for name in ASSET_TASK_TYPES]
        via = "create-tasks per task type"

        async def create(job: tuple[str, str, list[str]]) -> list[dict[str, Any]]:
            name, kind, entity_ids = job
            tt = self.r.task_type_ids[name]
            try:
                created = await self.api.post(f"/actions/projects/{pid}/task-types/{tt}/{kind}/create-tasks",
                                              entity_ids)
            except ApiError as exc:
                if not missing_route(exc):
                    raise
                nonlocal via
                via = "POST /data/tasks one by one (no create-tasks route)"
                created = await gather_limited(self.n, entity_ids, lambda e: self.api.post(
                    "/data/tasks", {"project_id": pid, "task_type_id": tt, "entity_id": e}))
            return [{"id": t["id"], "entity_id": t["entity_id"], "kind": kind[:-1]} for t in created]

        # a few at a time: each call is one big transaction on the server
        for batch in await gather_limited(4, jobs, create):
            self.r.tasks.extend(batch)
        return via

    async def assign(self) -> str:
        artists = [pid for pid, p in self.r.persons.items() if p["role"] == "user"]
        if not self.r.tasks:
            raise KeyError("no tasks to assign")
        for i, task in enumerate(self.r.tasks):
            person = artists[i % len(artists)]
            task["assignee"] = person
            self.r.persons[person]["task_ids"].append(task["id"])
        via = "PUT /actions/persons/{id}/assign per artist"

        async def assign(person: str) -> None:
            ids = self.r.persons[person]["task_ids"]
            try:
                await self.api.put(f"/actions/persons/{person}/assign", {"task_ids": ids})
            except ApiError as exc:
                if not missing_route(exc):
                    raise
                nonlocal via
                via = "PUT /actions/tasks/{id}/assign per task (no batch route)"
                await gather_limited(self.n, ids, lambda t: self.api.put(
                    f"/actions/tasks/{t}/assign", {"person_id": person}))

        await gather_limited(self.n, artists, assign)
        return via

    async def comments(self) -> str:
        pid = self.r.project_id
        if not self.r.tasks or not self.r.status_ids:
            raise KeyError("no tasks or statuses to comment with")
        chosen = self.rng.sample(self.r.tasks, min(self.scale.comments, len(self.r.tasks)))
        kinds = list(COMMENT_STATUS_WEIGHTS)
        weights = list(COMMENT_STATUS_WEIGHTS.values())
        rows = [{"object_id": t["id"], "task_status_id": self.r.status_ids[self.rng.choices(kinds, weights)[0]],
                 "comment": f"Seed note {i}: timing on frame {self.rng.randint(1, 120)} needs another pass.",
                 "person_id": t["assignee"]} for i, t in enumerate(chosen)]
        self.r.commented_task_ids = [t["id"] for t in chosen]
        via = "POST comment-many, 100 per request"
        try:
            await gather_limited(4, [rows[i:i + 100] for i in range(0, len(rows), 100)],
                                 lambda chunk: self.api.post(f"/actions/projects/{pid}/tasks/comment-many", chunk))
        except ApiError as exc:
            if not missing_route(exc):
                raise
            via = "POST /actions/tasks/{id}/comment one by one (no comment-many route)"
            await gather_limited(self.n, rows, lambda row: self.api.post(
                f"/actions/tasks/{row['object_id']}/comment",
                {k: v for k, v in row.items() if k != "object_id"}))
        return via

    async def verify(self) -> str:
        """Count what the target holds now, through its own listings (-1: listing refused)."""
        pid = self.r.project_id

        async def count(path: str) -> int:
            try:
                return len(await self.api.get(path))
            except ApiError:
                return -1

        self.r.counts = {"persons_in_team": len(self.r.persons), "tasks": len(self.r.tasks)}
        for name in ("episodes", "sequences", "shots", "assets", "comments"):
            self.r.counts[name] = await count(f"/data/projects/{pid}/{name}") if pid else -1
        return " ".join(f"{k}={v}" for k, v in self.r.counts.items())


async def seed(base: str, email: str, password: str, scale: Scale | None = None, *, concurrency: int = 8,
               tag: str = "bench") -> SeedResult:
    async with new_session() as session:
        api = Api(session, base)
        api = api.with_token(await api.login(email, password))
        return await Seeder(api, scale or Scale(), concurrency=concurrency, tag=tag).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="API base (Zou: its root; Slate: gateway + /api)")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--tag", default="bench")
    parser.add_argument("--out")
    args = parser.parse_args()
    result = asyncio.run(seed(args.url, args.email, args.password, Scale.tiny() if args.tiny else Scale(),
                              concurrency=args.concurrency, tag=args.tag))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result.to_json(), f)
    print(f"seeded in {result.seconds:.1f} s; counts {result.counts}; failed: {result.failed}")


if __name__ == "__main__":
    main()
