"""Which forwarded headers to believe: the one implementation for the whole suite.

A request that crossed proxies carries ``X-Forwarded-For: client, proxy1, proxy2``
(each proxy appends the address it received the request from) and
``X-Forwarded-Proto``.  Anyone can *send* these headers, so they are believed only
when the TCP peer is a trusted proxy (``SLATE_TRUSTED_PROXIES``, a comma-separated
list of addresses or CIDRs), and then only as far as the chain stays inside trusted
proxies: the client is the first address, reading from the right, that is *not* a
trusted proxy.  Whatever an attacker writes to the left of it is ignored.

Used by the gateway (``slate_gateway``, which must not import ``libs/common``) and
by every service (``slate_common.forwarded``, a pure ASGI middleware), so both
resolve a client address and scheme with the same rules from the same setting.
This package has no dependencies beyond the standard library.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = ["TrustedProxies", "forward", "resolve"]


@dataclass(frozen=True)
class TrustedProxies:
    """A set of networks whose forwarded headers are believed."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str | Iterable[str] | None) -> TrustedProxies:
        """``"10.0.0.0/8, 127.0.0.1"`` -> the networks (a bare address is a /32 or /128).

        An empty value trusts nobody; a malformed entry raises ``ValueError`` (a typo in a
        security setting must stop the process, not widen or narrow trust silently).
        """
        if text is None:
            return cls()
        items = text.split(",") if isinstance(text, str) else list(text)
        nets = []
        for item in items:
            item = item.strip()
            if not item:
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"SLATE_TRUSTED_PROXIES: {item!r} is not an address or CIDR") from None
        return cls(tuple(nets))

    def __contains__(self, address: object) -> bool:
        if not self.networks or not isinstance(address, str):
            return False
        return _trusted(self.networks, address)

    def __hash__(self) -> int:
        return hash(self.networks)


@lru_cache(maxsize=4096)
def _trusted(networks: tuple[Network, ...], address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def resolve(peer: str, forwarded_for: Iterable[str], forwarded_proto: str | None,
            scheme: str, trusted: TrustedProxies) -> tuple[str, str]:
    """Return ``(client address, scheme)`` of a request.

    ``peer`` is the TCP peer; ``forwarded_for`` the values of every X-Forwarded-For
    header in order; ``forwarded_proto`` the X-Forwarded-Proto value (``None`` if
    absent); ``scheme`` the scheme of the connection itself.  When the peer is not
    trusted, both headers are ignored: ``(peer, scheme)``.
    """
    if peer not in trusted:
        return peer, scheme
    hops = [h.strip() for value in forwarded_for for h in value.split(",")]
    client = peer
    for hop in reversed(hops):
        if not hop:
            continue
        client = hop
        if hop not in trusted:
            break
    return client, _proto(forwarded_proto, scheme)


def forward(peer: str, forwarded_for: Iterable[str], forwarded_proto: str | None,
            scheme: str, trusted: TrustedProxies) -> tuple[str, str]:
    """What a proxy (the gateway) sends on: ``(X-Forwarded-For, X-Forwarded-Proto)``.

    From a trusted peer the chain is extended with the peer and its scheme is kept;
    from anyone else both are replaced (the chain starts at the peer), so a header an
    attacker wrote never travels further.
    """
    if peer not in trusted:
        return peer, scheme
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    return ", ".join((*hops, peer)), _proto(forwarded_proto, scheme)


def _proto(forwarded_proto: str | None, scheme: str) -> str:
    if forwarded_proto:
        # Each proxy may append its own: the last one was set by the proxy we trust.
        proto = forwarded_proto.rsplit(",", 1)[-1].strip().lower()
        if proto in ("http", "https", "ws", "wss"):
            return proto
    return scheme
