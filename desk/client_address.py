"""The client address of a desk request, for the login limits (pure, no I/O).

The client is the TCP peer, unless the peer is one of the trusted reverse proxies
(``PERMANENCE_TRUSTED_PROXIES``, comma-separated IPs or CIDRs, empty by default). Then the
``X-Forwarded-For`` hops are read from the right (each proxy appends the address it saw) and
the first hop that is not a trusted proxy is the client. Every refusal is explicit:

- no trusted proxy configured, or a peer that is not one: the header is ignored (anyone can
  write it);
- a trusted peer without the header: the peer itself;
- a hop that is not an IP address (forged or garbled): the walk stops and the last trusted
  address reached is the client, never the garbage;
- every hop trusted: the left-most one.

Addresses are normalised (``::ffff:192.0.2.1`` is ``192.0.2.1``; IPv6 compressed), so that one
client is always counted under one key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_HOPS = 32  # a longer header is read only up to its 32 right-most hops


class InvalidProxyList(ValueError):
    """``PERMANENCE_TRUSTED_PROXIES`` holds something that is not an IP address or a CIDR."""


def parse_proxies(text: str) -> tuple[Network, ...]:
    """The trusted proxies of ``PERMANENCE_TRUSTED_PROXIES`` (``""`` -> none)."""
    networks = []
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise InvalidProxyList(
                f"PERMANENCE_TRUSTED_PROXIES: {item[:60]!r} is not an IP address or a CIDR"
            ) from error
    return tuple(networks)


def parse_address(text: str | None) -> Address | None:
    """An IP address from a peer or a hop (``[v6]``, a port after v4 or in brackets allowed)."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value.startswith("["):  # [2001:db8::1] or [2001:db8::1]:443
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(peer: str | None, forwarded_for: Iterable[str],
                   proxies: Sequence[Network]) -> str:
    """The client's address as a string (``"?"`` when the peer is unknown).

    ``forwarded_for`` is every ``X-Forwarded-For`` header of the request, in order."""
    current = parse_address(peer)
    if current is None:
        return (peer or "?")[:64] or "?"
    if not proxies or not _trusted(current, proxies):
        return str(current)
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops[-MAX_HOPS:]):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)
