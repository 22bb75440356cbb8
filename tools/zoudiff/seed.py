"""Build the same small production on one side, through the public API only.

Every seeded thing gets a symbol (``project``, ``shot``, ``preview:movie``,
``person:vendor``...); the same symbols on both sides make the oracle-id <-> slate-id
mapping. Reference data both servers ship (default departments, task statuses...) is
mapped by name (``task_status=Todo``). :func:`fresh` makes a new target of a kind for a
call that changes or deletes something, one per (route, role).
"""

from __future__ import annotations

import functools
import io
import itertools
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .side import PASSWORD, ZOU_ROLE, SeedError, Side

#: Lists of reference data mapped by name on both sides: kind -> listing route.
REFERENCE_LISTS = {
    "department": "/data/departments",
    "task_type": "/data/task-types",
    "task_status": "/data/task-status",
    "asset_type": "/data/entity-types",
    "project_status": "/data/project-status",
    "organisation": "/data/organisations",
    "studio": "/data/studios",
}


#: The reference data a fresh Zou 1.0.97 holds after init-data (names observed over HTTP).
#: Only these are mapped by name: anything else on the shared oracle belongs to others.
DEFAULT_NAMES: dict[str, frozenset[str]] = {
    "department": frozenset({"Modeling", "Animation", "FX", "Compositing", "Concept", "Layout"}),
    "task_type": frozenset({"Concept", "Modeling", "Shading", "Rigging", "Storyboard", "Layout", "Animation",
                            "Lighting", "FX", "Rendering", "Compositing", "Edit"}),
    "task_status": frozenset({"Todo", "Work In Progress", "Waiting For Approval", "Retake", "Done",
                              "Ready To Start", "Neutral", "Approved", "Rejected"}),
    "asset_type": frozenset({"ConceptFolder", "Shot", "Edit", "Sequence", "Prop", "Scene", "Character",
                             "Episode", "FX", "Environment", "Concept"}),
    "project_status": frozenset({"Open", "Closed"}),
    "organisation": frozenset({"Kitsu"}),
    "studio": frozenset(),
}


@functools.cache
def png_bytes(color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


@functools.cache
def mp4_bytes() -> bytes:
    """One second of a 160x120 test pattern, H.264, with a silent AAC track, made with the
    ffmpeg of imageio-ffmpeg. (Zou 1.0.97 marks a movie without an audio track "broken":
    the comparison needs a clip both sides process.)"""
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "testsrc=size=160x120:rate=24:duration=1", "-f", "lavfi",
             "-i", "anullsrc=channel_layout=stereo:sample_rate=48000", "-shortest", "-pix_fmt", "yuv420p",
             "-c:v", "libx264", "-c:a", "aac", str(out)],
            check=True,
        )
        return out.read_bytes()


class Seeder:
    """Seeds one side. ``tag`` makes names unique on a shared oracle."""

    def __init__(self, side: Side, tag: str, log: Callable[[str], None] = print, *, other_project: bool = True) -> None:
        self.side = side
        #: Whether ``project:other`` gets its things (the ``@other`` column).
        self.other_project = other_project
        self.tag = tag
        self.log = log
        self.counter = 0
        self._count = itertools.count(1)

    def uniq(self, stem: str) -> str:
        self.counter = next(self._count)  # atomic: calls run in threads
        return f"{stem} {self.tag}-{self.counter}"

    def cleanup(self) -> None:
        """Deactivate every person this run made: Zou counts active persons against its
        user limit (100), and the oracle is shared."""
        s = self.side
        a = s.call("GET", "/data/persons")
        if a.status != 200:
            return
        for person in a.json():
            if str(person.get("email", "")).startswith(f"zd-{self.tag}".lower()) and person.get("active"):
                s.call("PUT", f"/data/persons/{person['id']}", json={"active": False})

    # -- the whole production -------------------------------------------------------------
    def seed(self) -> None:
        s = self.side
        started = time.monotonic()
        s.login("admin", s.admin_email, s.admin_password)
        me = s.must("GET", "/auth/authenticated")
        s.set("person:admin", me["user"]["id"])
        # The oracle's admin has a last presence (the desktop login logs of earlier runs): a
        # fresh Slate's admin gets one the same way, so that the admin's rows compare.
        s.must("POST", "/data/user/desktop-login-logs", json={"date": "2026-12-01T10:00:00"})

        s.set("department", s.must("POST", "/data/departments", json={"name": self.uniq("ZD Anim"), "color": "#ff0000"})["id"])
        s.set("department:2", s.must("POST", "/data/departments", json={"name": self.uniq("ZD Light"), "color": "#00ff00"})["id"])

        for role, zou_role in ZOU_ROLE.items():
            if role == "admin":
                continue
            email = f"zd-{self.tag}-{role}@example.com".lower()
            p = s.must("POST", "/data/persons", json={
                "first_name": "Zd", "last_name": f"{role.title()} {self.tag}", "email": email,
                "role": zou_role, "password": PASSWORD,
            })
            s.set(f"person:{role}", p["id"])
            s.login(role, email, PASSWORD)
        for role in ("supervisor", "artist"):
            s.must("POST", f"/actions/persons/{s.id('person:' + role)}/departments/add",
                   json={"department_id": s.id("department")})

        s.set("asset_type", s.must("POST", "/data/entity-types", json={"name": self.uniq("ZD Props")})["id"])
        s.set("task_type", s.must("POST", "/data/task-types", json={
            "name": self.uniq("ZD Animation"), "for_entity": "Shot", "department_id": s.id("department"),
        })["id"])
        s.set("task_type:asset", s.must("POST", "/data/task-types", json={
            "name": self.uniq("ZD Modeling"), "for_entity": "Asset", "department_id": s.id("department"),
        })["id"])
        s.set("task_status", s.must("POST", "/data/task-status", json={
            "name": self.uniq("ZD Wip"), "short_name": f"zw{self.tag[-5:]}", "color": "#3273dc",
        })["id"])
        s.set("task_status:done", s.must("POST", "/data/task-status", json={
            "name": self.uniq("ZD Done"), "short_name": f"zd{self.tag[-5:]}", "color": "#22d160", "is_done": True,
        })["id"])
        self.map_reference_data()

        for sym in ("project", "project:other"):
            s.set(sym, s.must("POST", "/data/projects", json={"name": self.uniq("ZD Short"), "production_type": "tvshow"})["id"])
        pid = s.id("project")
        for role in ("manager", "supervisor", "artist", "client", "vendor"):
            s.must("POST", f"/data/projects/{pid}/team", json={"person_id": s.id("person:" + role)})
        for sym in ("task_type", "task_type:asset"):
            s.must("POST", f"/data/projects/{pid}/settings/task-types", json={"task_type_id": s.id(sym)})
        for sym in ("task_status", "task_status:done"):
            s.must("POST", f"/data/projects/{pid}/settings/task-status", json={"task_status_id": s.id(sym)})
        s.must("POST", f"/data/projects/{pid}/settings/asset-types", json={"asset_type_id": s.id("asset_type")})

        s.set("episode", s.must("POST", f"/data/projects/{pid}/episodes", json={"name": "E01"})["id"])
        s.set("sequence", s.must("POST", f"/data/projects/{pid}/sequences",
                                 json={"name": "SQ01", "episode_id": s.id("episode")})["id"])
        for sym, name in (("shot", "SH010"), ("shot:2", "SH020")):
            s.set(sym, s.must("POST", f"/data/projects/{pid}/shots",
                              json={"name": name, "sequence_id": s.id("sequence"), "nb_frames": 24})["id"])
        for sym, name in (("asset", "Chair"), ("asset:2", "Table")):
            s.set(sym, s.must("POST", f"/data/projects/{pid}/asset-types/{s.id('asset_type')}/assets/new",
                              json={"name": name, "description": f"a {name.lower()}"})["id"])
        s.must("PUT", f"/data/projects/{pid}/entities/{s.id('shot')}/casting",
               json=[{"asset_id": s.id("asset"), "nb_occurences": 1}, {"asset_id": s.id("asset:2"), "nb_occurences": 2}])

        for sym, entity, task_type in (("task", "shot", "task_type"), ("task:2", "shot:2", "task_type"),
                                       ("task:asset", "asset", "task_type:asset")):
            s.set(sym, self.task(entity, task_type))
        s.must("PUT", f"/actions/persons/{s.id('person:artist')}/assign", json={"task_ids": [s.id("task"), s.id("task:asset")]})
        s.must("PUT", f"/actions/persons/{s.id('person:vendor')}/assign", json={"task_ids": [s.id("task:2")]})

        tid = s.id("task")
        s.set("comment", self.comment(tid, "admin"))
        s.set("comment:artist", self.comment(tid, "artist"))
        s.set("comment:movie", self.comment(tid, "admin"))
        s.set("preview", self.preview(tid, s.id("comment"), png_bytes(), "preview.png"))
        s.set("preview:movie", self.preview(tid, s.id("comment:movie"), mp4_bytes(), "preview.mp4"))
        s.set("attachment", self.attachment(tid, s.id("comment")))
        reply = s.must("POST", f"/data/tasks/{tid}/comments/{s.id('comment')}/reply", role="artist", json={"text": "zd reply"})
        if isinstance(reply, dict) and reply.get("id"):
            s.set("reply", reply["id"])

        s.must("POST", f"/actions/user/tasks/{tid}/subscribe", role="supervisor")
        subs = s.must("GET", "/data/subscriptions" + params_path(person_id=s.id("person:supervisor"), task_id=tid))
        if subs:
            s.set("subscription", subs[0]["id"])
        s.set("filter", self.user_filter("artist"))
        s.set("filter_group", self.user_filter_group("artist"))
        s.set("studio", s.must("POST", "/data/studios", json={"name": self.uniq("ZD Studio"), "color": "#999999"})["id"])
        s.set("preview_background", self.preview_background())

        notes = s.must("GET", "/data/user/notifications", role="artist")
        if notes:
            s.set("notification", notes[0]["id"])
        news = s.must("GET", f"/data/projects/{pid}/news")
        items = news.get("data", news) if isinstance(news, dict) else news
        for item in items or []:
            if item.get("comment_id") == s.id("comment"):
                s.set("news", item["id"])
        # the shot's link to the asset (not the episode's, which both servers add: their
        # listings' order differs)
        for link in s.must("GET", f"/data/projects/{pid}/entity-links") or []:
            if isinstance(link, dict) and (link.get("entity_in_id"), link.get("entity_out_id")) == (s.id("shot"), s.id("asset")):
                s.set("entity_link", link["id"])
        if self.other_project:
            self.seed_other_project()
        self.wait_previews()
        self.log(f"{s.name}: seeded {len(s.world)} things in {time.monotonic() - started:.1f}s")

    def seed_other_project(self) -> None:
        """The same kinds of things in ``project:other``, whose team holds nobody: what the
        ``@other`` column of the permission matrix reads and changes."""
        s = self.side
        pid = s.id("project:other")
        for sym in ("task_type", "task_type:asset"):
            s.must("POST", f"/data/projects/{pid}/settings/task-types", json={"task_type_id": s.id(sym)})
        for sym in ("task_status", "task_status:done"):
            s.must("POST", f"/data/projects/{pid}/settings/task-status", json={"task_status_id": s.id(sym)})
        s.must("POST", f"/data/projects/{pid}/settings/asset-types", json={"asset_type_id": s.id("asset_type")})
        s.set("episode:other", s.must("POST", f"/data/projects/{pid}/episodes", json={"name": "E01"})["id"])
        s.set("sequence:other", s.must("POST", f"/data/projects/{pid}/sequences",
                                       json={"name": "SQ01", "episode_id": s.id("episode:other")})["id"])
        s.set("shot:other", s.must("POST", f"/data/projects/{pid}/shots",
                                   json={"name": "SH010", "sequence_id": s.id("sequence:other"), "nb_frames": 24})["id"])
        s.set("asset:other", s.must("POST", f"/data/projects/{pid}/asset-types/{s.id('asset_type')}/assets/new",
                                    json={"name": "Chair", "description": "another chair"})["id"])
        s.must("PUT", f"/data/projects/{pid}/entities/{s.id('shot:other')}/casting",
               json=[{"asset_id": s.id("asset:other"), "nb_occurences": 1}])
        s.set("task:other", str(s.must("POST", "/data/tasks", json={
            "project_id": pid, "entity_id": s.id("shot:other"), "task_type_id": s.id("task_type"),
            "task_status_id": s.id("task_status"), "name": "main",
        })["id"]))
        tid = s.id("task:other")
        s.set("comment:other", self.comment(tid, "admin"))
        s.set("preview:other", self.preview(tid, s.id("comment:other"), png_bytes((200, 40, 40)), "other.png"))
        s.set("attachment:other", self.attachment(tid, s.id("comment:other")))
        for link in s.must("GET", f"/data/projects/{pid}/entity-links") or []:
            if isinstance(link, dict) and (link.get("entity_in_id"), link.get("entity_out_id")) == (
                    s.id("shot:other"), s.id("asset:other")):
                s.set("entity_link:other", link["id"])

    def map_reference_data(self) -> None:
        """Name every reference item both servers ship (``task_status=Todo``)."""
        s = self.side
        known = set(s.world.values())
        for kind, path in REFERENCE_LISTS.items():
            a = s.call("GET", path)
            if a.status != 200:
                continue
            for item in a.json():
                if not isinstance(item, dict) or item.get("id") in known or item.get("name") not in DEFAULT_NAMES[kind]:
                    continue
                name = item["name"] + (f"/{item['for_entity']}" if item.get("for_entity") else "")
                s.world.setdefault(f"{kind}={name}", item["id"])

    # -- one thing ------------------------------------------------------------------------
    def task(self, entity: str, task_type: str) -> str:
        s = self.side
        body = {
            "project_id": s.id("project"), "entity_id": s.id(entity), "task_type_id": s.id(task_type),
            "task_status_id": s.id("task_status"), "name": "main",
        }
        return str(s.must("POST", "/data/tasks", json=body)["id"])

    def comment(self, task_id: str, role: str) -> str:
        s = self.side
        c = s.must("POST", f"/actions/tasks/{task_id}/comment", role=role,
                   json={"task_status_id": s.id("task_status"), "comment": f"zd comment by {role}"})
        return str(c["id"])

    def preview(self, task_id: str, comment_id: str, content: bytes, filename: str) -> str:
        s = self.side
        pf = s.must("POST", f"/actions/tasks/{task_id}/comments/{comment_id}/add-preview", json={})
        mime = "video/mp4" if filename.endswith(".mp4") else "image/png"
        s.must("POST", f"/pictures/preview-files/{pf['id']}", files={"file": (filename, content, mime)})
        return str(pf["id"])

    def attachment(self, task_id: str, comment_id: str) -> str:
        s = self.side
        out = s.must("POST", f"/actions/tasks/{task_id}/comments/{comment_id}/add-attachment",
                     files={"file": ("notes.png", png_bytes((10, 10, 200)), "image/png")})
        item = out[0] if isinstance(out, list) else out
        return str(item["id"])

    def user_filter(self, role: str) -> str:
        s = self.side
        f = s.must("POST", "/data/user/filters", role=role, json={
            "list_type": "shots", "name": self.uniq("zd filter"), "query": "SH010", "project_id": s.id("project"),
        })
        return str(f["id"])

    def user_filter_group(self, role: str) -> str:
        s = self.side
        g = s.must("POST", "/data/user/filter-groups", role=role, json={
            "list_type": "shots", "name": self.uniq("zd group"), "color": "#ff9900", "project_id": s.id("project"),
        })
        return str(g["id"])

    def preview_background(self) -> str:
        s = self.side
        f = s.must("POST", "/data/preview-background-files", json={"name": self.uniq("zd bg")})
        s.call("POST", f"/pictures/preview-background-files/{f['id']}",
               files={"file": ("bg.png", png_bytes((90, 90, 90)), "image/png")})
        return str(f["id"])

    def wait_previews(self, timeout: float = 120.0) -> None:
        """Slate transcodes asynchronously: wait until every seeded preview is ready/broken."""
        s = self.side
        deadline = time.monotonic() + timeout
        for sym in [k for k in s.world if k.startswith("preview") and not k.startswith("preview_background")]:
            self.wait_preview(s.id(sym), deadline)

    def wait_preview(self, preview_id: str, deadline: float) -> None:
        """Until the preview is ready or broken (at once on Zou, which transcodes within
        the upload), or the deadline."""
        while True:
            a = self.side.call("GET", f"/data/preview-files/{preview_id}")
            status = a.json().get("status") if a.status == 200 else None
            if status in ("ready", "broken") or a.status != 200 or time.monotonic() > deadline:
                return
            time.sleep(0.3)

    # -- fresh targets --------------------------------------------------------------------
    def fresh(self, kind: str, symbol: str, *, other: bool = False) -> str | None:
        """A new thing of ``kind`` named ``symbol`` (None when the kind has no factory),
        in ``project:other`` for a call of the ``@other`` column."""
        s = self.side
        pid = s.id("project:other" if other else "project")
        try:
            ident = self._fresh(kind, pid, ":other" if other else "")
        except (SeedError, KeyError, IndexError, TypeError, ValueError) as exc:
            self.log(f"{s.name}: fresh {kind} failed: {exc}")
            return None
        if ident is None:
            return None
        s.set(symbol, ident)
        return ident

    def _fresh(self, kind: str, pid: str, where: str = "") -> str | None:  # noqa: PLR0911, PLR0912 - one branch per kind
        """``where`` is ":other" for the things of ``project:other``."""
        s = self.side

        def local(symbol: str) -> str:  # the seeded thing of the same project
            return s.id(symbol + where)

        if kind == "project":
            return str(s.must("POST", "/data/projects", json={"name": self.uniq("ZD Fresh")})["id"])
        if kind == "episode":
            return str(s.must("POST", f"/data/projects/{pid}/episodes", json={"name": self.uniq("E")})["id"])
        if kind == "sequence":
            return str(s.must("POST", f"/data/projects/{pid}/sequences",
                              json={"name": self.uniq("SQ"), "episode_id": local("episode")})["id"])
        if kind in ("shot", "entity"):
            return str(s.must("POST", f"/data/projects/{pid}/shots",
                              json={"name": self.uniq("SH"), "sequence_id": local("sequence"), "nb_frames": 12})["id"])
        if kind == "asset":
            return str(s.must("POST", f"/data/projects/{pid}/asset-types/{s.id('asset_type')}/assets/new",
                              json={"name": self.uniq("Prop"), "description": ""})["id"])
        if kind == "task":
            shot = self._fresh("shot", pid, where)
            body = {"project_id": pid, "entity_id": shot, "task_type_id": s.id("task_type"),
                    "task_status_id": s.id("task_status"), "name": "main"}
            tid = str(s.must("POST", "/data/tasks", json=body)["id"])
            if not where:  # the other project's tasks are nobody's
                s.must("PUT", f"/actions/persons/{s.id('person:artist')}/assign", json={"task_ids": [tid]})
            return tid
        if kind == "comment":
            return self.comment(local("task"), "admin")
        if kind == "reply":
            out = s.must("POST", f"/data/tasks/{local('task')}/comments/{local('comment')}/reply", json={"text": "zd"})
            return str(out["id"])
        if kind == "person":
            email = f"zd-{self.uniq('p').replace(' ', '-')}@example.com".lower()
            # inactive: Zou refuses a 101st active person, and the oracle is shared
            p = s.must("POST", "/data/persons", json={"first_name": "Zd", "last_name": "Fresh", "email": email,
                                                      "role": "user", "password": PASSWORD, "active": False})
            s.must("POST", f"/data/projects/{pid}/team", json={"person_id": p["id"]})
            return str(p["id"])
        if kind == "assignee":  # someone to assign in project:other: inactive, in no team
            email = f"zd-{self.uniq('a').replace(' ', '-')}@example.com".lower()
            return str(s.must("POST", "/data/persons", json={"first_name": "Zd", "last_name": "Assignee", "email": email,
                                                             "role": "user", "password": PASSWORD, "active": False})["id"])
        if kind == "department":
            return str(s.must("POST", "/data/departments", json={"name": self.uniq("ZD Dept"), "color": "#123456"})["id"])
        if kind == "task_type":
            tt = s.must("POST", "/data/task-types", json={"name": self.uniq("ZD TT"), "for_entity": "Shot"})["id"]
            s.must("POST", f"/data/projects/{pid}/settings/task-types", json={"task_type_id": tt})
            return str(tt)
        if kind == "task_status":
            ts = s.must("POST", "/data/task-status", json={"name": self.uniq("ZD TS"),
                                                           "short_name": f"z{self.tag[-4:]}{self.counter}", "color": "#000000"})["id"]
            s.must("POST", f"/data/projects/{pid}/settings/task-status", json={"task_status_id": ts})
            return str(ts)
        if kind == "asset_type":
            at = s.must("POST", "/data/entity-types", json={"name": self.uniq("ZD AT")})["id"]
            s.must("POST", f"/data/projects/{pid}/settings/asset-types", json={"asset_type_id": at})
            return str(at)
        if kind == "project_status":
            return str(s.must("POST", "/data/project-status", json={"name": self.uniq("ZD PS"), "color": "#010101"})["id"])
        if kind == "studio":
            return str(s.must("POST", "/data/studios", json={"name": self.uniq("ZD Studio"), "color": "#999999"})["id"])
        if kind == "preview":  # a target in the state the calls on it expect: processed
            cid = self.comment(local("task"), "admin")
            preview_id = self.preview(local("task"), cid, png_bytes((0, 120, 0)), "fresh.png")
            self.wait_preview(preview_id, time.monotonic() + 60.0)
            return preview_id
        if kind == "attachment":
            return self.attachment(local("task"), self.comment(local("task"), "admin"))
        if kind == "filter":
            return self.user_filter("artist")
        if kind == "filter_group":
            return self.user_filter_group("artist")
        if kind == "preview_background":
            return self.preview_background()
        if kind == "entity_link":
            shot = self._fresh("shot", pid, where)
            s.must("PUT", f"/data/projects/{pid}/entities/{shot}/casting", json=[{"asset_id": local("asset"), "nb_occurences": 1}])
            for link in s.must("GET", f"/data/projects/{pid}/entity-links") or []:
                if isinstance(link, dict) and link.get("entity_in_id") == shot:
                    return str(link["id"])
            return None
        return None


def params_path(**params: str) -> str:
    """``/data/subscriptions`` filtered by query parameters (seeding helper)."""
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())
