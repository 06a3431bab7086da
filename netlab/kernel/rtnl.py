"""rtnetlink on a plain socket: pyroute2 encodes the messages, this module sends them.

Why not ``IPRoute``: each of its calls runs an asyncio round trip (about 0.5 ms), and a
deployment sends thousands of requests. rtnetlink handles a request synchronously inside
``send()`` (the kernel runs the handler in the sender's context), so the acknowledgement is
already queued when ``send`` returns: reading it at once costs one more system call and
attributes every error to its request.

A :class:`RouteSocket` is created in the calling thread's namespace and stays there for its
life, whichever thread uses it later: that is how the driver talks to many namespaces from
one thread without ``setns``.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from typing import Any

# The kernel's rtnetlink numbers (linux/netlink.h, linux/rtnetlink.h, linux/pkt_sched.h): a
# fixed ABI, written out so that importing this module does not import pyroute2, whose
# package loads the whole library (about 90 ms). Its message classes, which encode and decode
# requests, are imported where a request is built: a destroy, which reads only loopback
# marks (:meth:`RouteSocket.alias`) and namespace ids, never loads it.
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_DUMP = 0x300
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWQDISC, RTM_DELQDISC, RTM_GETQDISC = 36, 37, 38
TC_H_ROOT = 0xFFFFFFFF
IFLA_IFALIAS = 20
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change

SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG = 1
IFF_UP = 1
AF_BRIDGE = 7
BRIDGE_VLAN_INFO_PVID = 0x2
BRIDGE_VLAN_INFO_UNTAGGED = 0x4
RTEXT_FILTER_BRVLAN = 0x2  # a link dump of family AF_BRIDGE then lists each port's VLANs
IFA_F_NODAD = 0x02
RT_TABLE_MAIN = 254
RTPROT_BOOT = 3  # what `ip route add` writes
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RTN_UNICAST = 1
_HEADER = struct.Struct("=IHHII")
# Enough for thousands of queued acknowledgements; needs CAP_NET_ADMIN (SO_RCVBUFFORCE).
RECEIVE_BUFFER = 4 * 1024 * 1024
SO_RCVBUFFORCE = 33  # not in the socket module

Message = Any  # a pyroute2 nlmsg: untyped


class NetlinkFailure(OSError):
    """The kernel refused a request: ``errno`` is the error, ``strerror`` says it in words
    (with the kernel's own extended message when it gave one)."""


class RouteSocket:
    """A NETLINK_ROUTE socket bound to the namespace of the thread that created it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        # Acknowledgements of failed requests then carry the header only, not the request.
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sequence = 0
        self._marshal: Any = None

    @property
    def marshal(self) -> Any:
        """pyroute2's decoder of rtnetlink messages, made on first use."""
        if self._marshal is None:
            from pyroute2.netlink.rtnl.marshal import MarshalRtnl

            self._marshal = MarshalRtnl()
        return self._marshal

    def enlarge(self) -> None:
        """Raise the receive buffer past rmem_max, for long runs of unread replies."""
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RouteSocket:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _send(self, message: Message, kind: int, flags: int) -> int:
        self.sequence += 1
        message["header"]["type"] = kind
        message["header"]["flags"] = flags
        message["header"]["sequence_number"] = self.sequence
        message.encode()
        self.sock.send(message.data)
        return self.sequence

    def request(self, message: Message, kind: int, flags: int = 0) -> None:
        """Send one request and read its acknowledgement; raise :class:`NetlinkFailure`."""
        sequence = self._send(message, kind, NLM_F_REQUEST | NLM_F_ACK | flags)
        while True:
            data = self.sock.recv(65536)
            for failure in _acknowledgements(data, sequence):
                if failure is not None:
                    raise failure
                return

    def dump(self, message: Message, kind: int) -> list[Message]:
        """Send a dump request and return every message of the answer, decoded."""
        sequence = self._send(message, kind, NLM_F_REQUEST | NLM_F_DUMP)
        found: list[Message] = []
        while True:
            data = self.sock.recv(1 << 20)
            for failure in _acknowledgements(data, sequence):
                if failure is not None:
                    raise failure
            done = False
            for parsed in self.marshal.parse(data):
                if parsed["header"]["sequence_number"] != sequence:
                    continue
                if parsed["header"]["type"] == NLMSG_DONE:
                    done = True
                elif parsed["header"]["type"] != NLMSG_ERROR:
                    found.append(parsed)
            if done:
                return found

    # Requests, in iproute2's words.

    def add_bridge(self, index: int, name: str) -> None:
        """``ip link add NAME up type bridge`` (index 0: the kernel picks one)."""
        message = _link(index, up=True)
        message["attrs"] = [
            ("IFLA_IFNAME", name),
            ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "bridge")]}),
        ]
        self.request(message, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)

    def add_veth(
        self,
        index: int,
        name: str,
        master: int | None,
        peer_index: int,
        peer_name: str,
        peer_netns_fd: int,
    ) -> None:
        """``ip link add NAME [master M] up type veth peer name PEER netns FD``.

        The kernel honours ``peer_index`` only when ``index`` is given too. The peer is
        created down: a veth end cannot be born up in another namespace (ENOTCONN).
        """
        peer = {
            "index": peer_index,
            "attrs": [("IFLA_IFNAME", peer_name), ("IFLA_NET_NS_FD", peer_netns_fd)],
        }
        message = _link(index, up=True)
        message["attrs"] = [("IFLA_IFNAME", name)]
        if master is not None:
            message["attrs"].append(("IFLA_MASTER", master))
        message["attrs"].append(
            (
                "IFLA_LINKINFO",
                {
                    "attrs": [
                        ("IFLA_INFO_KIND", "veth"),
                        ("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", peer)]}),
                    ]
                },
            )
        )
        self.request(message, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)

    def set_link(
        self,
        index: int,
        *,
        up: bool = False,
        alias: str | None = None,
        master: int | None = None,
        mtu: int | None = None,
    ) -> None:
        """``ip link set DEV [master M] [up] [alias A] [mtu N]`` in one request."""
        message = _link(index, up=up)
        message["attrs"] = []
        if master is not None:
            message["attrs"].append(("IFLA_MASTER", master))
        if alias is not None:
            message["attrs"].append(("IFLA_IFALIAS", alias))
        if mtu is not None:
            message["attrs"].append(("IFLA_MTU", mtu))
        self.request(message, RTM_NEWLINK)

    def set_vlan_filtering(self, index: int, *, on: bool) -> None:
        """``ip link set BRIDGE type bridge vlan_filtering 1|0``."""
        message = _link(index, up=False)
        data = {"attrs": [("IFLA_BR_VLAN_FILTERING", int(on))]}
        message["attrs"] = [
            (
                "IFLA_LINKINFO",
                {"attrs": [("IFLA_INFO_KIND", "bridge"), ("IFLA_INFO_DATA", data)]},
            )
        ]
        self.request(message, RTM_NEWLINK)

    def add_vlan(self, index: int, name: str, parent: int, vlan: int, *, up: bool = True) -> None:
        """``ip link add link PARENT name NAME [up] type vlan id VLAN`` (index 0: the
        kernel's). Up needs an up parent (ENETDOWN)."""
        message = _link(index, up=up)
        message["attrs"] = [
            ("IFLA_IFNAME", name),
            ("IFLA_LINK", parent),
            (
                "IFLA_LINKINFO",
                {
                    "attrs": [
                        ("IFLA_INFO_KIND", "vlan"),
                        ("IFLA_INFO_DATA", {"attrs": [("IFLA_VLAN_ID", vlan)]}),
                    ]
                },
            ),
        ]
        self.request(message, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)

    def add_vxlan(
        self,
        index: int,
        name: str,
        *,
        vni: int,
        local: str,
        remote: str,
        port: int,
        mtu: int,
        netns_fd: int,
    ) -> None:
        """``ip link add NAME netns FD mtu MTU type vxlan id VNI local A remote B dstport P``,
        down: the device lives in ``netns_fd``'s namespace, its UDP socket in this socket's."""
        six = ipaddress.ip_address(local).version == 6
        data = [
            ("IFLA_VXLAN_ID", vni),
            ("IFLA_VXLAN_LOCAL6" if six else "IFLA_VXLAN_LOCAL", local),
            ("IFLA_VXLAN_GROUP6" if six else "IFLA_VXLAN_GROUP", remote),
            ("IFLA_VXLAN_PORT", port),
        ]
        message = _link(index, up=False)
        message["attrs"] = [
            ("IFLA_IFNAME", name),
            ("IFLA_NET_NS_FD", netns_fd),
            ("IFLA_MTU", mtu),
            (
                "IFLA_LINKINFO",
                {"attrs": [("IFLA_INFO_KIND", "vxlan"), ("IFLA_INFO_DATA", {"attrs": data})]},
            ),
        ]
        self.request(message, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)

    def bridge_vlan(
        self, index: int, vlan: int, *, untagged: bool = False, delete: bool = False
    ) -> None:
        """``bridge vlan add dev PORT vid VLAN [pvid untagged]``, or ``bridge vlan del dev
        PORT vid VLAN``: the port's entry in its bridge's VLAN table."""
        from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

        message = ifinfmsg()
        message["family"] = AF_BRIDGE
        message["index"] = index
        flags = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED if untagged else 0
        info = ("IFLA_BRIDGE_VLAN_INFO", {"flags": flags, "vid": vlan})
        message["attrs"] = [("IFLA_AF_SPEC", {"attrs": [info]})]
        self.request(message, RTM_DELLINK if delete else RTM_SETLINK)

    def set_state(self, index: int, *, up: bool) -> None:
        """``ip link set DEV up|down``."""
        message = _link(index, up=up)
        message["change"] = IFF_UP  # down as well as up
        message["attrs"] = []
        self.request(message, RTM_NEWLINK)

    def replace_qdisc(self, index: int, kind: str, options: dict[str, Any]) -> None:
        """``tc qdisc replace dev DEV root KIND ...``: handle 0, so the kernel changes a root
        qdisc of the same kind in place and grafts a new one over any other."""
        message = _qdisc(index)
        message["attrs"] = [("TCA_KIND", kind), ("TCA_OPTIONS", options)]
        self.request(message, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE)

    def delete_qdisc(self, index: int) -> None:
        """``tc qdisc del dev DEV root``: the device's default qdisc comes back."""
        self.request(_qdisc(index), RTM_DELQDISC)

    def delete_link(self, index: int) -> None:
        """``ip link del DEV``: a veth goes with its peer."""
        from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

        message = ifinfmsg()
        message["index"] = index
        self.request(message, RTM_DELLINK)

    def add_address(
        self, index: int, address: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    ) -> None:
        """``ip addr add ADDRESS dev DEV`` (IPv6: ``nodad``, usable at once in a lab)."""
        self.request(_address(index, address), RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL)

    def delete_address(
        self, index: int, address: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    ) -> None:
        """``ip addr del ADDRESS dev DEV``."""
        self.request(_address(index, address), RTM_DELADDR)

    def add_route(
        self,
        version: int,
        destination: ipaddress.IPv4Network | ipaddress.IPv6Network | None,
        gateway: str | None,
        oif: int | None,
        *,
        replace: bool = False,
    ) -> None:
        """``ip route add|replace DESTINATION [via GATEWAY] [dev DEV]`` in the main table."""
        message = _route(version, destination, gateway, oif)
        self.request(
            message, RTM_NEWROUTE, NLM_F_CREATE | (NLM_F_REPLACE if replace else NLM_F_EXCL)
        )

    def delete_route(
        self,
        version: int,
        destination: ipaddress.IPv4Network | ipaddress.IPv6Network | None,
        gateway: str | None,
        oif: int | None,
    ) -> None:
        """``ip route del DESTINATION [via GATEWAY] [dev DEV]`` from the main table."""
        self.request(_route(version, destination, gateway, oif), RTM_DELROUTE)

    # Reads.

    def links(self) -> list[Message]:
        from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

        return self.dump(ifinfmsg(), RTM_GETLINK)

    def link(self, *, index: int = 0, name: str | None = None) -> Message | None:
        """Return the link with this index or name, or None if there is none."""
        from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

        message = ifinfmsg()
        message["index"] = index
        message["attrs"] = [("IFLA_IFNAME", name)] if name is not None else []
        sequence = self._send(message, RTM_GETLINK, NLM_F_REQUEST)
        data = self.sock.recv(65536)
        # Errors first, by hand: pyroute2 cannot decode a capped error message.
        for failure in _acknowledgements(data, sequence):
            if failure is None or failure.errno == errno.ENODEV:
                return None
            raise failure
        for parsed in self.marshal.parse(data):
            if parsed["header"]["sequence_number"] == sequence:
                return parsed
        return None

    def alias(self, index: int) -> str | None:
        """Return the alias of link ``index`` (``ip link show``'s ``alias``), None if it has
        none or there is no such link. Encoded here: the one read a destroy makes."""
        self.sequence += 1
        body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, 0, 0)
        header = _HEADER.pack(
            _HEADER.size + len(body), RTM_GETLINK, NLM_F_REQUEST, self.sequence, 0
        )
        self.sock.send(header + body)
        data = self.sock.recv(65536)
        for failure in _acknowledgements(data, self.sequence):
            if failure is None or failure.errno == errno.ENODEV:
                return None
            raise failure
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, kind, _flags, number, _port = _HEADER.unpack_from(data, offset)
            if length < _HEADER.size:
                break
            if kind == RTM_NEWLINK and number == self.sequence:
                found = _attribute(
                    data[offset + _HEADER.size + _IFINFOMSG.size : offset + length], IFLA_IFALIAS
                )
                return None if found is None else found.rstrip(b"\0").decode(errors="replace")
            offset += (length + 3) & ~3
        return None

    def bridge_vlans(self) -> dict[int, dict[int, int]]:
        """Return ``{port index: {VLAN: flags}}`` of every bridge port (``bridge vlan show``)."""
        from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

        message = ifinfmsg()
        message["family"] = AF_BRIDGE
        message["attrs"] = [("IFLA_EXT_MASK", RTEXT_FILTER_BRVLAN)]
        found: dict[int, dict[int, int]] = {}
        for link in self.dump(message, RTM_GETLINK):
            spec = link.get_attr("IFLA_AF_SPEC")
            if spec is None:
                continue
            for info in spec.get_attrs("IFLA_BRIDGE_VLAN_INFO"):
                found.setdefault(link["index"], {})[info["vid"]] = info["flags"]
        return found

    def addresses(self) -> list[Message]:
        from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg

        return self.dump(ifaddrmsg(), RTM_GETADDR)

    def qdiscs(self) -> list[Message]:
        from pyroute2.netlink.rtnl.tcmsg import tcmsg

        message = tcmsg()
        message["family"] = socket.AF_UNSPEC
        return self.dump(message, RTM_GETQDISC)

    def routes(self, version: int = 4) -> list[Message]:
        from pyroute2.netlink.rtnl.rtmsg import rtmsg

        message = rtmsg()
        message["family"] = socket.AF_INET if version == 4 else socket.AF_INET6
        return self.dump(message, RTM_GETROUTE)


def _address(index: int, address: ipaddress.IPv4Interface | ipaddress.IPv6Interface) -> Message:
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg

    message = ifaddrmsg()
    message["family"] = socket.AF_INET if address.version == 4 else socket.AF_INET6
    message["prefixlen"] = address.network.prefixlen
    message["index"] = index
    message["flags"] = IFA_F_NODAD if address.version == 6 else 0
    text = str(address.ip)
    message["attrs"] = [("IFA_LOCAL", text), ("IFA_ADDRESS", text)]
    return message


def _route(
    version: int,
    destination: ipaddress.IPv4Network | ipaddress.IPv6Network | None,
    gateway: str | None,
    oif: int | None,
) -> Message:
    from pyroute2.netlink.rtnl.rtmsg import rtmsg

    message = rtmsg()
    message["family"] = socket.AF_INET if version == 4 else socket.AF_INET6
    message["dst_len"] = destination.prefixlen if destination is not None else 0
    message["table"] = RT_TABLE_MAIN
    message["proto"] = RTPROT_BOOT
    message["scope"] = RT_SCOPE_UNIVERSE if gateway else RT_SCOPE_LINK
    message["type"] = RTN_UNICAST
    attrs: list[tuple[str, Any]] = []
    if destination is not None and destination.prefixlen:
        attrs.append(("RTA_DST", str(destination.network_address)))
    if gateway is not None:
        attrs.append(("RTA_GATEWAY", gateway))
    if oif is not None:
        attrs.append(("RTA_OIF", oif))
    message["attrs"] = attrs
    return message


def _qdisc(index: int) -> Message:
    from pyroute2.netlink.rtnl.tcmsg import tcmsg

    message = tcmsg()
    message["family"] = socket.AF_UNSPEC
    message["index"] = index
    message["handle"] = 0
    message["parent"] = TC_H_ROOT
    return message


def _link(index: int, *, up: bool) -> Message:
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    message = ifinfmsg()
    message["index"] = index
    if up:
        message["flags"] = IFF_UP
        message["change"] = IFF_UP
    return message


def _attribute(data: bytes, wanted: int) -> bytes | None:
    """The payload of the first attribute of type ``wanted`` in a run of rtattrs."""
    offset = 0
    while offset + 4 <= len(data):
        size, kind = struct.unpack_from("=HH", data, offset)
        if size < 4:
            break
        if kind & 0x3FFF == wanted:  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
            return data[offset + 4 : offset + size]
        offset += (size + 3) & ~3
    return None


def _acknowledgements(data: bytes, sequence: int) -> list[NetlinkFailure | None]:
    """Return the outcome of the acknowledgements in ``data`` for request ``sequence``."""
    outcomes: list[NetlinkFailure | None] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, flags, number, _port = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            break
        if kind == NLMSG_ERROR and number == sequence:
            (code,) = struct.unpack_from("=i", data, offset + 16)
            if code == 0:
                outcomes.append(None)
            else:
                outcomes.append(_failure(-code, data[offset : offset + length], flags))
        offset += (length + 3) & ~3
    return outcomes


def _failure(code: int, message: bytes, flags: int) -> NetlinkFailure:
    text = os.strerror(code)
    name = errno.errorcode.get(code, str(code))
    if flags & NLM_F_ACK_TLVS:
        # Capped acknowledgement: header, error, the request's header, then attributes.
        offset = 16 + 4 + 16
        while offset + 4 <= len(message):
            size, kind = struct.unpack_from("=HH", message, offset)
            if size < 4:
                break
            if kind == NLMSGERR_ATTR_MSG:
                extra = message[offset + 4 : offset + size].rstrip(b"\0").decode(errors="replace")
                text = f"{text}: {extra}"
            offset += (size + 3) & ~3
    return NetlinkFailure(code, f"{text} ({name})")


def attr(message: Message, name: str) -> Any:
    """Return attribute ``name`` of a decoded message, or None."""
    return message.get_attr(name)
