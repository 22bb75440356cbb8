"""The trusted-proxy rules, on their own."""

import pytest

from slate_forwarded import TrustedProxies, forward, resolve

TRUSTED = TrustedProxies.parse("10.0.0.0/8, 127.0.0.1, ::1")


def test_parse_addresses_and_cidrs() -> None:
    assert "10.1.2.3" in TRUSTED and "127.0.0.1" in TRUSTED and "::1" in TRUSTED
    assert "127.0.0.2" not in TRUSTED and "11.0.0.1" not in TRUSTED
    assert "::ffff:10.0.0.5" in TRUSTED  # IPv4-mapped IPv6 peer
    assert "not-an-ip" not in TRUSTED and "" not in TRUSTED
    assert TrustedProxies.parse("").networks == ()
    with pytest.raises(ValueError, match="10.0.0.0/33"):
        TrustedProxies.parse("10.0.0.0/33")


def test_untrusted_peer_headers_ignored() -> None:
    assert resolve("203.0.113.9", ["1.2.3.4"], "https", "http", TRUSTED) == ("203.0.113.9", "http")


def test_first_untrusted_hop_from_the_right() -> None:
    # attacker-set "6.6.6.6", the real client 198.51.100.7 seen by the ingress 10.0.0.2
    assert resolve("10.0.0.3", ["6.6.6.6, 198.51.100.7", "10.0.0.2"], "https", "http",
                   TRUSTED) == ("198.51.100.7", "https")


def test_all_trusted_gives_leftmost() -> None:
    assert resolve("127.0.0.1", ["10.0.0.1, 10.0.0.2"], None, "http", TRUSTED) == ("10.0.0.1", "http")


def test_no_header_keeps_peer() -> None:
    assert resolve("127.0.0.1", [], None, "http", TRUSTED) == ("127.0.0.1", "http")


def test_proto_last_value_and_garbage() -> None:
    assert resolve("127.0.0.1", [], "http, https", "http", TRUSTED)[1] == "https"
    assert resolve("127.0.0.1", [], "javascript", "http", TRUSTED)[1] == "http"


def test_forward_extends_a_trusted_chain_and_replaces_an_untrusted_one() -> None:
    assert forward("10.0.0.2", ["198.51.100.7"], "https", "http", TRUSTED) == (
        "198.51.100.7, 10.0.0.2", "https")
    assert forward("203.0.113.9", ["6.6.6.6"], "https", "http", TRUSTED) == ("203.0.113.9", "http")
    # what the gateway forwards resolves, at the service, to the same client
    chain, proto = forward("10.0.0.2", ["6.6.6.6, 198.51.100.7"], "https", "http", TRUSTED)
    assert resolve("127.0.0.1", [chain], proto, "http", TRUSTED) == ("198.51.100.7", "https")
