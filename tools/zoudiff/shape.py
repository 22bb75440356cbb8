"""Answers reduced to what must match, and the comparison of two of them.

A *record* keeps the status, the content type, the body kind and, for JSON, its shape:
keys, the type of each value (``null``, ``empty`` for "", ``str``, ``int``, ``datetime``...),
list lengths, and references — a known id becomes ``@<symbol>`` (the same seeded thing
on both sides), an unknown one ``uuid``. Volatile values (names, dates, ids) are gone,
so the oracle's records can be stored in the repo and replayed against Slate.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from .side import UUID_RE, Answer

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
DATETIME_TZ_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_ALTERNATIVES = 4


def size_class(n: int) -> str:
    if n == 0:
        return "0"
    for limit, label in ((1024, "<1K"), (65536, "<64K"), (1 << 20, "<1M")):
        if n < limit:
            return label
    return ">=1M"


def body_kind(answer: Answer) -> str:
    ctype = answer.content_type
    if not answer.body:
        return "empty"
    if ctype == "application/json" or ctype.endswith("+json"):
        return "json"
    if ctype.startswith("text/html"):
        return "html"
    if ctype.startswith("text/"):
        return "text"
    return "binary"


def scalar(value: Any, symbols: dict[str, str]) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        if value == "":
            return "empty"
        if UUID_RE.match(value):
            return "@" + symbols[value] if value in symbols else "uuid"
        if DATETIME_RE.match(value):
            return "datetime"
        if DATETIME_TZ_RE.match(value):
            return "datetime+tz"
        if DATE_RE.match(value):
            return "date"
        return "str"
    return type(value).__name__


def shape(value: Any, symbols: dict[str, str]) -> Any:
    """The shape of a JSON value (see the module docstring)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        unknown = 0
        for key, item in value.items():
            if UUID_RE.match(key):
                if key not in symbols:
                    unknown += 1
                    continue
                key = "@" + symbols[key]
            out[key] = shape(item, symbols)
        if value.get("type") == "PreviewFile" and isinstance(value.get("status"), str):
            out["status"] = "=" + value["status"]  # a preview compares by its processing state
        if unknown:
            out["@uuid-keys"] = "present"
        return {"{}": out}
    if isinstance(value, list):
        return {"[]": list_shape(value, symbols)}
    return scalar(value, symbols)


def _ident(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("id"), str) and UUID_RE.match(item["id"]):
        return str(item["id"])
    if isinstance(item, str) and UUID_RE.match(item):
        return item
    return None


def _foreign(item: Any, symbols: dict[str, str]) -> bool:
    """An item that only refers to things this run did not seed (others' data on the oracle)."""
    if not isinstance(item, dict):
        return False
    refs = [v for v in item.values() if isinstance(v, str) and UUID_RE.match(v)]
    return bool(refs) and not any(v in symbols for v in refs)


def list_shape(items: list[Any], symbols: dict[str, str]) -> dict[str, Any]:
    """Lists of things with ids compare by the seeded things they hold (things of others
    on the shared oracle only count as ``other``); other lists by length and item shape."""
    if items and all(_ident(i) for i in items):
        known: dict[str, Any] = {}
        other_keys: set[str] = set()
        for item in items:
            ident = _ident(item)
            if ident in symbols:
                known["@" + symbols[ident]] = shape(item, symbols) if isinstance(item, dict) else "ref"
            elif isinstance(item, dict):
                other_keys.update(item)
            else:
                other_keys.add("uuid")
        return {"known": known, "other": sorted(other_keys)}
    alternatives: dict[str, Any] = {}
    items = [i for i in items if not _foreign(i, symbols)]
    for item in items:
        s = shape(item, symbols)
        alternatives.setdefault(json.dumps(s, sort_keys=True), s)
        if len(alternatives) >= 4 * MAX_ALTERNATIVES:
            break
    # sorted: the order a server lists rows in is not compared
    return {"len": len(items), "item": [alternatives[k] for k in sorted(alternatives)][:MAX_ALTERNATIVES]}


def truncate(s: Any, depth: int) -> Any:
    """A shape cut ``depth`` levels down (deeper objects and lists become labels)."""
    if not isinstance(s, dict):
        return s
    if depth <= 0:
        return _label(s)
    if "{}" in s:
        return {"{}": {k: truncate(v, depth - 1) for k, v in s["{}"].items()}}
    inner = s["[]"]
    if "known" in inner:
        return {"[]": {"known": {k: truncate(v, depth - 1) for k, v in inner["known"].items()}, "other": inner["other"]}}
    return {"[]": {"len": inner["len"], "item": [truncate(v, depth - 1) for v in inner["item"]]}}


#: Routes whose answer is a document, not data: compared by their top levels only.
SHALLOW = {"GET /openapi.json": 2, "GET /openapi-raw.json": 2}


def record(answer: Answer, symbols: dict[str, str], depth: int = 16) -> dict[str, Any]:
    kind = body_kind(answer)
    rec: dict[str, Any] = {"status": answer.status, "ctype": answer.content_type, "kind": kind}
    if kind == "json":
        try:
            rec["shape"] = truncate(shape(json.loads(answer.body), symbols), depth)
        except ValueError:
            rec["kind"] = "bad-json"
    elif kind in ("binary", "text", "html"):
        rec["size"] = size_class(len(answer.body))
    return rec


@dataclass(frozen=True)
class Diff:
    kind: str
    where: str = ""
    zou: str = ""
    slate: str = ""

    @property
    def signature(self) -> str:
        """What the known-gaps list stores: kind and place, not the values."""
        return f"{self.kind} {self.where}".strip()

    def __str__(self) -> str:
        values = (f" zou={self.zou}" if self.zou else "") + (f" slate={self.slate}" if self.slate else "")
        return f"{self.kind} {self.where}".strip() + values


#: Kinds that are a hard failure whatever the intentional or known-gaps files say.
ALLOWS_MORE = "allows-more"


def status_diff(zou: int, slate: int) -> Diff | None:
    if zou == slate:
        return None
    if zou >= 500:  # Zou failed: not a refusal, nothing to allow more than
        return Diff("zou-error", "", str(zou), str(slate))
    zou_ok, slate_ok = zou < 400, slate < 400
    if not zou_ok and slate_ok:
        return Diff(ALLOWS_MORE, "", str(zou), str(slate))
    if zou_ok and not slate_ok:
        return Diff("refuses-more", "", str(zou), str(slate))
    return Diff("status", "", str(zou), str(slate))


def compare(zou: dict[str, Any], slate: dict[str, Any]) -> list[Diff]:
    """Every difference between the oracle's record and Slate's, most important first."""
    for side, rec in (("zou", zou), ("slate", slate)):
        if rec.get("kind") == "tool-error":  # the tool failed, not the server: no verdict on it
            return [Diff("tool-error", "", side, str(rec.get("error", ""))[:120])]
    d = status_diff(zou["status"], slate["status"])
    if d is not None:
        return [d]
    diffs: list[Diff] = []
    if zou["kind"] != slate["kind"]:
        return [Diff("body-kind", "", zou["kind"], slate["kind"])]
    if zou["ctype"] != slate["ctype"] and zou["kind"] != "empty":
        diffs.append(Diff("content-type", "", zou["ctype"], slate["ctype"]))
    if zou["kind"] == "json":
        compare_shape(zou.get("shape"), slate.get("shape"), "$", diffs)
    elif zou.get("size") != slate.get("size") and zou["kind"] == "binary":
        diffs.append(Diff("size", "", str(zou.get("size")), str(slate.get("size"))))
    return diffs


def _label(s: Any) -> str:
    if isinstance(s, dict):
        return "object" if "{}" in s else "list"
    return str(s)


def compare_shape(zou: Any, slate: Any, where: str, diffs: list[Diff]) -> None:
    if zou == slate:
        return
    if isinstance(zou, dict) and isinstance(slate, dict) and zou.keys() == slate.keys():
        if "{}" in zou:
            zk, sk = zou["{}"], slate["{}"]
            for key in zk:
                if key not in sk:
                    diffs.append(Diff("missing-key", f"{where}.{key}", _label(zk[key]), ""))
                else:
                    compare_shape(zk[key], sk[key], f"{where}.{key}", diffs)
            for key in sk:
                if key not in zk:
                    diffs.append(Diff("extra-key", f"{where}.{key}", "", _label(sk[key])))
            return
        compare_list(zou["[]"], slate["[]"], where, diffs)
        return
    zl, sl = _label(zou), _label(slate)
    kind = "ref" if zl.startswith("@") or sl.startswith("@") else "type"
    diffs.append(Diff(kind, where, zl, sl))


def compare_list(zou: dict[str, Any], slate: dict[str, Any], where: str, diffs: list[Diff]) -> None:
    if "known" in zou and "known" in slate:
        zk, sk = zou["known"], slate["known"]
        missing = sorted(set(zk) - set(sk))
        extra = sorted(set(sk) - set(zk))
        if missing:
            diffs.append(Diff("missing-items", f"{where}[]", " ".join(missing), ""))
        if extra:
            diffs.append(Diff("extra-items", f"{where}[]", "", " ".join(extra)))
        for key in zk:
            if key in sk:
                compare_shape(zk[key], sk[key], f"{where}[{key}]", diffs)
        return
    if "known" in zou or "known" in slate:
        # [] on one side, things with ids on the other: only seeded things count (the
        # shared oracle holds things of others)
        if zou.get("len") == 0:
            if slate["known"]:
                diffs.append(Diff("extra-items", f"{where}[]", "", " ".join(sorted(slate["known"]))))
        elif slate.get("len") == 0:
            if zou["known"]:
                diffs.append(Diff("missing-items", f"{where}[]", " ".join(sorted(zou["known"])), ""))
        else:
            zn = len(zou["known"]) if "known" in zou else zou["len"]
            sn = len(slate["known"]) if "known" in slate else slate["len"]
            diffs.append(Diff("list-kind", f"{where}[]", f"{zn} items", f"{sn} items"))
        return
    if zou["len"] != slate["len"]:
        diffs.append(Diff("length", f"{where}[]", str(zou["len"]), str(slate["len"])))
    # rows without ids compare by structure: which seeded thing each row names depends on
    # the rows kept (at most MAX_ALTERNATIVES), so references collapse to "ref" here
    zi = sorted({json.dumps(_collapse(s), sort_keys=True) for s in zou["item"]})
    si = sorted({json.dumps(_collapse(s), sort_keys=True) for s in slate["item"]})
    zi, si = [json.loads(s) for s in zi], [json.loads(s) for s in si]
    if zi and si and zi != si:
        compare_shape(zi[0], si[0], f"{where}[]", diffs)


# -- the fixture: records with their shapes stored once --------------------------------------
def pack(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Records as stored: each distinct shape once, under its hash."""
    shapes: dict[str, Any] = {}
    packed: dict[str, Any] = {}
    for key, rec in sorted(records.items()):
        rec = dict(rec)
        if "shape" in rec:
            text = json.dumps(rec["shape"], sort_keys=True, separators=(",", ":"))
            digest = hashlib.sha1(text.encode()).hexdigest()[:12]
            shapes[digest] = rec["shape"]
            rec["shape"] = digest
        packed[key] = rec
    return {"shapes": dict(sorted(shapes.items())), "records": packed}


def unpack(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    shapes = data.get("shapes")
    if shapes is None:
        return dict(data["records"])
    out = {}
    for key, rec in data["records"].items():
        rec = dict(rec)
        if "shape" in rec:
            rec["shape"] = shapes[rec["shape"]]
        out[key] = rec
    return out


def load_fixture(path: Any) -> dict[str, dict[str, Any]]:
    from pathlib import Path

    return unpack(json.loads(Path(path).read_text()))


def _collapse(s: Any) -> Any:
    if isinstance(s, str):
        return "ref" if s.startswith("@") or s == "uuid" else s
    if isinstance(s, dict) and "{}" in s:
        return {"{}": {("@key" if k.startswith("@") else k): _collapse(v) for k, v in s["{}"].items()}}
    if isinstance(s, dict) and "[]" in s:
        inner = s["[]"]
        if "known" in inner:
            # one "@item" key: the last known item's shape stands for all of them
            return {"[]": {"known": {"@item": _collapse(v) for v in inner["known"].values()}, "other": []}}  # noqa: B035
        return {"[]": {"len": inner["len"], "item": [_collapse(v) for v in inner["item"]]}}
    return s


def own_view(s: Any, call_key: str) -> Any:
    """A shape as one call sees it: things made fresh for *other* calls (running at the
    same time, on the same parents) are not this call's business — dropped from lists of
    seeded things, and named ``@fresh-other`` where referred to."""
    mark = f":{call_key}:"

    def other(sym: str) -> bool:
        return sym.startswith("@fresh:") and mark not in sym

    if isinstance(s, str):
        return "@fresh-other" if other(s) else s
    if isinstance(s, dict) and "{}" in s:
        return {"{}": {k: own_view(v, call_key) for k, v in s["{}"].items() if not other(k)}}
    if isinstance(s, dict) and "[]" in s:
        inner = s["[]"]
        if "known" in inner:
            known = {k: own_view(v, call_key) for k, v in inner["known"].items() if not other(k)}
            return {"[]": {"known": known, "other": inner["other"]}} if known or not inner["known"] else \
                {"[]": {"len": 0, "item": []}} if not inner["other"] else {"[]": {"known": {}, "other": inner["other"]}}
        return {"[]": {"len": inner["len"], "item": [own_view(v, call_key) for v in inner["item"]]}}
    return s
