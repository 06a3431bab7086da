"""Address maths on the text forms a design document uses.

Each parser returns the parsed value or raises ``ValueError`` whose message is written for
the user, so validation can show it next to the field as it is.

No parser accepts an IPv6 scope id (``fe80::1%eth0``): Python's ``ipaddress`` takes any text
after ``%`` (spaces, quotes, newlines), and a design names interfaces in its own fields.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SOCKET_V6 = re.compile(r"^\[(?P<address>[^\]]+)\](?::(?P<port>\d+))?$")
# Text that looks like an IPv4 address (digits and dots), with a prefix or not.
_IPV4_LIKE = re.compile(r"^(?P<address>[0-9.]+)(?:/(?P<prefix>.*))?$", re.ASCII)
_IPV6_LIKE = re.compile(r"^(?P<address>[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(?:/(?P<prefix>.*))?$")


def why_not_an_address(text: str, *, prefix: bool) -> str | None:
    """Return why ``text`` (``a.b.c.d`` or, with ``prefix``, ``a.b.c.d/len``) is not an
    address, in the words of someone reading it: ``300 is not a valid byte``; None when no
    single cause can be named (the caller then says the text is not an address at all).
    """
    match = _IPV4_LIKE.match(text)
    if match:
        parts = match["address"].split(".")
        if len(parts) != 4 or not all(parts):
            return "an IPv4 address is 4 numbers separated by dots, e.g. 192.168.15.1"
        for part in parts:
            if len(part) > 3 or int(part) > 255:
                return f"{part} is not a valid byte"
            if len(part) > 1 and part.startswith("0"):
                return f"{part} has a leading zero, which some tools read as octal"
        limit = 32
    elif (match := _IPV6_LIKE.match(text)) is not None:
        limit = 128
    else:
        return None
    length = match["prefix"]
    if length is None:
        return None
    if not prefix:
        return "an address takes no prefix length here"
    if not (length.isascii() and length.isdigit()):
        if limit == 32 and re.fullmatch(r"[0-9.]+", length, re.ASCII):
            return None  # a netmask, which ipaddress reads or refuses on its own
        return f"the prefix length {length!r} is not a number"
    if int(length) > limit:
        return f"the prefix length {int(length)} is more than {limit}"
    return None


def _refuse_scope_id(text: str) -> None:
    if "%" in text:
        raise ValueError(
            f"{text!r} has a scope id (the '%' part); a design's addresses take none: the "
            "interface is the one the address is on, or a route's 'dev'"
        )


def parse_interface_address(text: str) -> IPInterface:
    """Parse ``address/prefix`` as put on an interface, e.g. ``192.168.15.1/24``.

    Refuses addresses no interface should carry in a lab: unspecified, loopback, multicast,
    and (IPv4, prefix up to /30) the network and broadcast addresses of the subnet.
    """
    _refuse_scope_id(text)
    if not text.strip():
        raise ValueError(
            f"{text!r} is empty: write an address and its prefix, e.g. 192.168.15.1/24"
        )
    if "/" not in text:
        raise ValueError(
            f"{text!r} has no prefix length; write it as address/prefix, e.g. 192.168.15.1/24"
        )
    try:
        interface = ipaddress.ip_interface(text)
    except ValueError:
        reason = why_not_an_address(text, prefix=True)
        if reason is not None:
            raise ValueError(f"{text!r}: {reason}") from None
        raise ValueError(f"{text!r} is not an IP interface address") from None
    address = interface.ip
    if address.is_unspecified or address.is_loopback or address.is_multicast:
        raise ValueError(f"{text!r} is not a usable interface address")
    network = interface.network
    if isinstance(interface, ipaddress.IPv4Interface) and network.prefixlen <= 30:
        if address == network.network_address:
            raise ValueError(f"{text!r} is the network address of {network}")
        if address == network.broadcast_address:
            raise ValueError(f"{text!r} is the broadcast address of {network}")
    return interface


def parse_address(text: str) -> IPAddress:
    """Parse a bare address, e.g. a gateway ``192.168.15.5``."""
    _refuse_scope_id(text)
    if not text.strip():
        raise ValueError(f"{text!r} is empty: write an address, e.g. 192.168.15.5")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        reason = why_not_an_address(text, prefix=False)
        if reason is not None:
            raise ValueError(f"{text!r}: {reason}") from None
        raise ValueError(f"{text!r} is not an IP address") from None


def parse_prefix(text: str) -> IPNetwork:
    """Parse a route or NAT prefix such as ``192.168.15.0/24`` (host bits must be zero)."""
    _refuse_scope_id(text)
    if not text.strip():
        raise ValueError(f"{text!r} is empty: write a prefix, e.g. 192.168.15.0/24")
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            reason = why_not_an_address(text, prefix=True)
            if reason is not None:
                raise ValueError(f"{text!r}: {reason}") from None
            raise ValueError(f"{text!r} is not an IP prefix") from None
        raise ValueError(f"{text!r} has host bits set; did you mean {network}?") from None


def parse_route_destination(text: str) -> IPNetwork | None:
    """Parse a route's ``to``: ``default`` (returns None) or a prefix."""
    if text == "default":
        return None
    if not text.strip():
        raise ValueError(f"{text!r} is empty: write default or a prefix, e.g. 192.168.1.0/24")
    return parse_prefix(text)


def parse_socket(text: str) -> tuple[IPAddress, int | None]:
    """Parse ``address:port``, ``[v6address]:port`` or a bare address (port None)."""
    _refuse_scope_id(text)
    if not text.strip():
        raise ValueError(f"{text!r} is empty: write address:port, e.g. 192.168.15.2:80")
    match = _SOCKET_V6.match(text)
    if match:
        address_text, port_text = match["address"], match["port"]
    elif text.count(":") == 1:
        address_text, port_text = text.split(":")
    else:
        address_text, port_text = text, None
    try:
        address = ipaddress.ip_address(address_text)
    except ValueError:
        raise ValueError(f"{text!r} is not an address or address:port") from None
    if port_text is None:
        return address, None
    # isdigit() alone accepts non-ASCII digits such as '٨٠' or '²'.
    if not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"{text!r} has a port that is not a number")
    port = int(port_text)
    check_port(port)
    return address, port


def check_port(port: int) -> int:
    """Return ``port`` if it is a usable TCP/UDP port (1-65535)."""
    if not 1 <= port <= 65535:
        # A huge number is not written out: str() refuses integers of 4300+ digits.
        shown = f"port {port}" if port.bit_length() <= 1024 else "the port"
        raise ValueError(f"{shown} is out of range 1-65535")
    return port


def same_family(first: IPAddress | IPNetwork, second: IPAddress | IPNetwork) -> bool:
    """Tell whether two addresses or prefixes are both IPv4 or both IPv6."""
    return first.version == second.version
