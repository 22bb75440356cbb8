"""slate_gateway.identity without NATS: which credentials an answer is kept for, and when a
kept answer is given again (the events side runs in tests/e2e: test_gateway_edge.py and
the consistency matrix's rows on /auth/authenticated)."""

from __future__ import annotations

import time

from slate_gateway.identity import IdentityView


def test_the_key_is_the_token_the_services_would_read() -> None:
    key = IdentityView.key
    assert key([(b"Authorization", b"Bearer abc")]) == b"h:abc"
    assert key([(b"authorization", b"bearer abc "), (b"cookie", b"access_token_cookie=zzz")]) == b"h:abc"
    assert key([(b"cookie", b"a=1; access_token_cookie=zzz; b=2")]) == b"c:zzz"
    assert key([(b"authorization", b"Basic xyz"), (b"cookie", b"access_token_cookie=zzz")]) == b"c:zzz"
    assert key([(b"authorization", b"Bearer ")]) is None
    assert key([(b"cookie", b"refresh_token_cookie=r")]) is None
    assert key([(b"cookie", b"access_token_cookie=a; access_token_cookie=b")]) is None
    assert key([(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")]) is None
    assert key([]) is None


def test_an_answer_is_kept_only_when_nothing_changed_while_it_was_fetched() -> None:
    view = IdentityView("nats://unused", "S")
    assert view.start_fill(b"h:a") is None  # not ready (no events): nothing is kept
    view.ready = True
    fill = view.start_fill(b"h:a")
    assert fill is not None
    fill.chunks, fill.until = [b'{"a":', b"1}"], time.time() + 60
    view.complete_fill(fill)
    assert view.lookup(b"h:a") == b'{"a":1}'
    late = view.start_fill(b"h:b")
    assert late is not None
    late.chunks, late.until = [b"{}"], time.time() + 60
    view.drop_all()  # an event arrived while it was fetched
    view.complete_fill(late)
    assert view.lookup(b"h:a") is None and view.lookup(b"h:b") is None
    expired = view.start_fill(b"h:c")
    assert expired is not None
    expired.chunks, expired.until = [b"{}"], time.time() - 1  # the token's expiry passed
    view.complete_fill(expired)
    assert view.lookup(b"h:c") is None
    unmarked = view.start_fill(b"h:d")  # an answer auth did not mark with an expiry
    assert unmarked is not None
    unmarked.chunks = [b"{}"]
    view.complete_fill(unmarked)
    assert view.lookup(b"h:d") is None
    kept = view.start_fill(b"h:e")
    assert kept is not None
    kept.chunks, kept.until = [b"{}"], time.time() + 60
    view.complete_fill(kept)
    view.ready = False  # NATS lost: nothing is answered from memory
    assert view.lookup(b"h:e") is None
