"""The client address for the login limits (desk/client_address.py, pure): the peer, or the
right-most untrusted X-Forwarded-For hop when the peer is a trusted proxy."""

from __future__ import annotations

import pytest

from desk.client_address import (
    MAX_HOPS,
    InvalidProxyList,
    client_address,
    parse_address,
    parse_proxies,
)

PROXIES = parse_proxies("127.0.0.1, 10.0.0.0/8 ,2001:db8:1::/48")


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    # No forwarded header, or a peer that is not a trusted proxy: the peer.
    ("127.0.0.1", [], "127.0.0.1"),
    ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),
    ("192.0.2.1", ["127.0.0.1"], "192.0.2.1"),
    # A trusted proxy: the right-most hop that is not a trusted proxy.
    ("127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
    ("127.0.0.1", ["6.6.6.6, 203.0.113.9"], "203.0.113.9"),  # the client's own claim is left
    ("127.0.0.1", ["6.6.6.6, 203.0.113.9, 10.1.2.3"], "203.0.113.9"),  # chained proxies
    ("127.0.0.1", ["6.6.6.6", "203.0.113.9, 10.1.2.3"], "203.0.113.9"),  # several headers
    ("127.0.0.1", ["10.9.9.9, 10.1.2.3"], "10.9.9.9"),  # every hop trusted: the left-most
    # Garbage stops the walk at the last trusted address, never the garbage.
    ("127.0.0.1", ["203.0.113.9, nonsense"], "127.0.0.1"),
    ("127.0.0.1", ["nonsense, 10.1.2.3"], "10.1.2.3"),
    ("127.0.0.1", ["  ,, "], "127.0.0.1"),
    # Ports, brackets, IPv4-mapped and IPv6 forms are one address each.
    ("127.0.0.1", ["203.0.113.9:51234"], "203.0.113.9"),
    ("127.0.0.1", ["[2001:db8::7]:443"], "2001:db8::7"),
    ("::ffff:127.0.0.1", ["2001:0db8:0000::0007"], "2001:db8::7"),
    ("2001:db8:1::5", ["203.0.113.9"], "203.0.113.9"),
    ("::ffff:198.51.100.7", [], "198.51.100.7"),
    # An unknown peer (a unix socket): its name, cut.
    ("", [], "?"),
    ("/run/desk.sock", ["203.0.113.9"], "/run/desk.sock"),
])
def test_client_address(peer, headers, expected):
    assert client_address(peer, headers, PROXIES) == expected


def test_no_trusted_proxy_means_the_header_is_never_read():
    assert client_address("127.0.0.1", ["203.0.113.9"], parse_proxies("")) == "127.0.0.1"


def test_a_long_chain_is_read_from_the_right_only():
    hops = ", ".join(["203.0.113.1"] + ["10.0.0.1"] * (MAX_HOPS + 5))
    assert client_address("127.0.0.1", [hops], PROXIES) == "10.0.0.1"


@pytest.mark.parametrize("text", ["localhost", "10.0.0.0/33", "127.0.0.1; 10.0.0.1"])
def test_an_invalid_proxy_list_is_refused_loudly(text):
    with pytest.raises(InvalidProxyList, match="PERMANENCE_TRUSTED_PROXIES"):
        parse_proxies(text)


def test_parse_address_refuses_what_is_not_an_ip():
    assert parse_address(None) is None and parse_address("example.org") is None
    assert str(parse_address(" 192.0.2.1 ")) == "192.0.2.1"


def test_the_desk_does_not_start_with_an_invalid_proxy_list(monkeypatch):
    from desk.channel import desk_blueprint

    monkeypatch.setenv("PERMANENCE_TRUSTED_PROXIES", "10.0.0.1, proxy.internal")
    with pytest.raises(InvalidProxyList, match="proxy.internal"):
        desk_blueprint(lambda: None, name="desk_invalid_proxies")
