"""Address maths on the text forms of a design: one named row per case."""

from __future__ import annotations

import ipaddress
import re

import pytest

from netlab.core.addressing import (
    check_port,
    parse_address,
    parse_interface_address,
    parse_prefix,
    parse_route_destination,
    parse_socket,
    same_family,
)


@pytest.mark.parametrize(
    ("text", "interface"),
    [
        pytest.param("192.168.15.1/24", "192.168.15.1/24", id="ipv4"),
        pytest.param("10.0.0.0/31", "10.0.0.0/31", id="ipv4-slash-31-first"),
        pytest.param("10.0.0.1/31", "10.0.0.1/31", id="ipv4-slash-31-second"),
        pytest.param("10.0.0.7/32", "10.0.0.7/32", id="ipv4-slash-32"),
        pytest.param("10.0.0.1/30", "10.0.0.1/30", id="ipv4-slash-30-first-host"),
        pytest.param("192.168.15.1/255.255.255.0", "192.168.15.1/24", id="ipv4-netmask"),
        pytest.param("2001:db8::1/64", "2001:db8::1/64", id="ipv6"),
        pytest.param("2001:db8::/64", "2001:db8::/64", id="ipv6-subnet-anycast"),
        pytest.param("fe80::1/64", "fe80::1/64", id="ipv6-link-local"),
    ],
)
def test_parse_interface_address(text: str, interface: str) -> None:
    """A usable address with its prefix parses to that interface."""
    assert parse_interface_address(text) == ipaddress.ip_interface(interface)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("192.168.15.300/24", ": 300 is not a valid byte", id="octet-over-255"),
        pytest.param(
            "192.168.15.1/33", "the prefix length 33 is more than 32", id="prefix-over-32"
        ),
        pytest.param("192.168.15.1/", "the prefix length '' is not a number", id="empty-prefix"),
        pytest.param("192.168.15/24", "an IPv4 address is 4 numbers", id="three-numbers"),
        pytest.param("192.168.015.1/24", "015 has a leading zero", id="leading-zero"),
        pytest.param(" 192.168.15.1/24", "is not an IP interface address", id="leading-space"),
        pytest.param("red/24", "is not an IP interface address", id="name"),
        pytest.param(
            "2001:db8::1/129", "the prefix length 129 is more than 128", id="ipv6-prefix-over-128"
        ),
        pytest.param("192.168.15.1", "has no prefix length", id="no-prefix"),
        pytest.param("", "is empty: write an address and its prefix", id="empty"),
        pytest.param("192.168.15.0/24", "is the network address of 192.168.15.0/24", id="network"),
        pytest.param("192.168.15.255/24", "is the broadcast address of", id="broadcast"),
        pytest.param("10.0.0.3/30", "is the broadcast address of 10.0.0.0/30", id="broadcast-30"),
        pytest.param("0.0.0.0/8", "is not a usable interface address", id="unspecified"),
        pytest.param("127.0.0.1/8", "is not a usable interface address", id="loopback"),
        pytest.param("239.1.1.1/24", "is not a usable interface address", id="multicast"),
        pytest.param("::/64", "is not a usable interface address", id="ipv6-unspecified"),
        pytest.param("::1/128", "is not a usable interface address", id="ipv6-loopback"),
        pytest.param("ff02::1/64", "is not a usable interface address", id="ipv6-multicast"),
    ],
)
def test_parse_interface_address_refuses(text: str, message: str) -> None:
    """Unusable interface addresses raise ValueError naming the text and the reason."""
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        parse_interface_address(text)
    assert repr(text) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        pytest.param("192.168.15.0/24", "192.168.15.0/24", id="ipv4"),
        pytest.param("0.0.0.0/0", "0.0.0.0/0", id="ipv4-everything"),
        pytest.param("10.1.2.3", "10.1.2.3/32", id="ipv4-host"),
        pytest.param("2001:db8::/32", "2001:db8::/32", id="ipv6"),
        pytest.param("::/0", "::/0", id="ipv6-everything"),
    ],
)
def test_parse_prefix(text: str, prefix: str) -> None:
    """A prefix with no host bits set parses to that network."""
    assert parse_prefix(text) == ipaddress.ip_network(prefix)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "192.168.15.1/24", "has host bits set; did you mean 192.168.15.0/24?", id="host-bits"
        ),
        pytest.param("2001:db8::1/32", "did you mean 2001:db8::/32?", id="ipv6-host-bits"),
        pytest.param(
            "192.168.15.0/33", "the prefix length 33 is more than 32", id="prefix-over-32"
        ),
        pytest.param("10.0.300.0/24", "300 is not a valid byte", id="octet-over-255"),
        pytest.param("default", "is not an IP prefix", id="default-word"),
        pytest.param("", "is empty: write a prefix", id="empty"),
    ],
)
def test_parse_prefix_refuses(text: str, message: str) -> None:
    """A text that is not a clean prefix raises ValueError saying why."""
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_prefix(text)


@pytest.mark.parametrize(
    ("text", "destination"),
    [
        pytest.param("default", None, id="default"),
        pytest.param("192.168.1.0/24", ipaddress.ip_network("192.168.1.0/24"), id="prefix"),
    ],
)
def test_parse_route_destination(text: str, destination: object) -> None:
    """A route's destination is 'default' (None) or a prefix."""
    assert parse_route_destination(text) == destination


def test_an_empty_route_destination_says_what_to_write() -> None:
    """An empty 'to' (a route row just added) asks for default or a prefix."""
    with pytest.raises(ValueError, match="'' is empty: write default or a prefix"):
        parse_route_destination("")


@pytest.mark.parametrize(
    ("text", "address", "port"),
    [
        pytest.param("192.168.15.2:80", "192.168.15.2", 80, id="ipv4-and-port"),
        pytest.param("192.168.15.2:1", "192.168.15.2", 1, id="ipv4-lowest-port"),
        pytest.param("192.168.15.2:65535", "192.168.15.2", 65535, id="ipv4-highest-port"),
        pytest.param("192.168.15.2", "192.168.15.2", None, id="ipv4-alone"),
        pytest.param("[2001:db8::2]:8080", "2001:db8::2", 8080, id="ipv6-and-port"),
        pytest.param("[2001:db8::2]", "2001:db8::2", None, id="ipv6-bracketed-alone"),
        pytest.param("2001:db8::2", "2001:db8::2", None, id="ipv6-alone"),
        pytest.param("::ffff:10.0.0.1", "::ffff:10.0.0.1", None, id="ipv4-mapped-ipv6"),
    ],
)
def test_parse_socket(text: str, address: str, port: int | None) -> None:
    """address:port, [v6address]:port and a bare address parse to (address, port or None)."""
    assert parse_socket(text) == (ipaddress.ip_address(address), port)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("192.168.15.2:0", "port 0 is out of range 1-65535", id="port-0"),
        pytest.param("192.168.15.2:65536", "port 65536 is out of range", id="port-65536"),
        pytest.param("[2001:db8::2]:0", "port 0 is out of range", id="ipv6-port-0"),
        pytest.param("[2001:db8::2]:65536", "port 65536 is out of range", id="ipv6-port-65536"),
        pytest.param("192.168.15.2:http", "has a port that is not a number", id="named-port"),
        pytest.param("192.168.15.2:", "has a port that is not a number", id="empty-port"),
        pytest.param("192.168.15.2:-1", "has a port that is not a number", id="negative-port"),
        pytest.param("192.168.15.2:٨٠", "has a port that is not a number", id="arabic-digits"),
        pytest.param("192.168.15.2:²", "has a port that is not a number", id="superscript-two"),
        pytest.param(
            "[2001:db8::2]:٨٠", "has a port that is not a number", id="ipv6-arabic-digits"
        ),
        pytest.param("blue:80", "is not an address or address:port", id="name-and-port"),
        pytest.param("192.168.15.300:80", "is not an address or address:port", id="bad-octet"),
        pytest.param("[2001:db8::2]80", "is not an address or address:port", id="ipv6-no-colon"),
        pytest.param("", "is empty: write address:port", id="empty"),
    ],
)
def test_parse_socket_refuses(text: str, message: str) -> None:
    """A text that is not address[:port] with a usable port raises ValueError saying why."""
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_socket(text)


@pytest.mark.parametrize(
    "port",
    [pytest.param(1, id="lowest"), pytest.param(80, id="http"), pytest.param(65535, id="highest")],
)
def test_check_port(port: int) -> None:
    """A port from 1 to 65535 is returned as it is."""
    assert check_port(port) == port


@pytest.mark.parametrize(
    "port",
    [
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(65536, id="just-above"),
        pytest.param(2**64, id="huge"),
    ],
)
def test_check_port_refuses(port: int) -> None:
    """A port outside 1-65535 raises ValueError naming it."""
    with pytest.raises(ValueError, match=f"port {port} is out of range 1-65535"):
        check_port(port)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        pytest.param("192.168.15.5", ipaddress.IPv4Address("192.168.15.5"), id="ipv4"),
        pytest.param("2001:db8::1", ipaddress.IPv6Address("2001:db8::1"), id="ipv6"),
    ],
)
def test_parse_address(text: str, address: object) -> None:
    """A bare address parses; a gateway is written this way."""
    assert parse_address(text) == address


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("192.168.15.5/24", "an address takes no prefix length here", id="with-prefix"),
        pytest.param("192.168.15.256", "256 is not a valid byte", id="octet-over-255"),
        pytest.param("gateway", "is not an IP address", id="name"),
        pytest.param("", "is empty: write an address", id="empty"),
    ],
)
def test_parse_address_refuses(text: str, message: str) -> None:
    """Anything but a bare address raises ValueError quoting the text, with the cause."""
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        parse_address(text)
    assert str(raised.value).startswith(repr(text))


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        pytest.param("10.0.0.1", "10.0.0.0/8", True, id="ipv4-address-and-prefix"),
        pytest.param("2001:db8::1", "::/0", True, id="ipv6-address-and-prefix"),
        pytest.param("10.0.0.1", "2001:db8::/32", False, id="ipv4-and-ipv6"),
        pytest.param("::ffff:10.0.0.1", "10.0.0.0/8", False, id="ipv4-mapped-is-ipv6"),
    ],
)
def test_same_family(first: str, second: str, same: bool) -> None:
    """Two values are of the same family when both are IPv4 or both IPv6."""
    assert same_family(ipaddress.ip_address(first), ipaddress.ip_network(second)) is same
