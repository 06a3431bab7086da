"""Captured frames in words: one line per packet in tcpdump's words, and its layers.

Decoding is dpkt's (a maintained library); this module only says what dpkt read, the way
``tcpdump -n`` prints it: ``ARP, Request who-has 192.168.15.2 tell 192.168.15.1``,
``IP 192.168.15.1 > 192.168.15.2: ICMP echo request, id 4, seq 1``, TCP flags and ports,
UDP, ICMPv6 and NDP, DNS questions. Pure: bytes in, text and dicts out.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

import dpkt

ICMP_NAMES = {0: "echo reply", 3: "destination unreachable", 8: "echo request", 11: "time exceeded"}
ICMP6_NAMES = {
    1: "destination unreachable",
    3: "time exceeded",
    128: "echo request",
    129: "echo reply",
    133: "router solicitation",
    134: "router advertisement",
    135: "neighbor solicitation",
    136: "neighbor advertisement",
}
TCP_FLAGS = (("S", dpkt.tcp.TH_SYN), ("F", dpkt.tcp.TH_FIN), ("R", dpkt.tcp.TH_RST),
             ("P", dpkt.tcp.TH_PUSH), (".", dpkt.tcp.TH_ACK))  # fmt: skip


@dataclass(frozen=True)
class Decoded:
    """A frame read: its protocol (for colours), one line of summary, and its layers."""

    protocol: str  # arp, icmp, icmp6, tcp, udp, ip, ip6, other
    summary: str
    layers: list[dict[str, Any]] = field(default_factory=list)


def mac(raw: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in raw)


def _ip(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw))


def decode(frame: bytes) -> Decoded:
    """Read an Ethernet frame. Never raises: a frame dpkt cannot read says so."""
    try:
        ethernet = dpkt.ethernet.Ethernet(frame)
    except (dpkt.UnpackError, ValueError, IndexError) as error:
        return Decoded("other", f"unreadable frame ({error})")
    layers: list[dict[str, Any]] = [{
        "layer": "Ethernet", "source": mac(ethernet.src), "destination": mac(ethernet.dst),
        "type": f"0x{ethernet.type:04x}",
    }]  # fmt: skip
    payload = ethernet.data
    if isinstance(payload, dpkt.arp.ARP):
        return _arp(payload, layers)
    if isinstance(payload, dpkt.ip.IP | dpkt.ip6.IP6):
        return _internet(payload, layers)
    return Decoded("other", f"ethertype 0x{ethernet.type:04x}, length {len(frame)}", layers)


def _arp(arp: Any, layers: list[dict[str, Any]]) -> Decoded:
    sender, target = _ip(arp.spa), _ip(arp.tpa)
    if arp.op == dpkt.arp.ARP_OP_REQUEST:
        summary = f"ARP, Request who-has {target} tell {sender}"
        operation = "request"
    elif arp.op == dpkt.arp.ARP_OP_REPLY:
        summary = f"ARP, Reply {sender} is-at {mac(arp.sha)}"
        operation = "reply"
    else:
        summary, operation = f"ARP, operation {arp.op}", str(arp.op)
    layers.append({
        "layer": "ARP", "operation": operation, "sender_mac": mac(arp.sha), "sender_ip": sender,
        "target_mac": mac(arp.tha), "target_ip": target,
    })  # fmt: skip
    return Decoded("arp", summary, layers)


def _internet(packet: Any, layers: list[dict[str, Any]]) -> Decoded:
    six = isinstance(packet, dpkt.ip6.IP6)
    source, destination = _ip(packet.src), _ip(packet.dst)
    layers.append({
        "layer": "IPv6" if six else "IPv4", "source": source, "destination": destination,
        "ttl": packet.hlim if six else packet.ttl, "protocol": packet.p if not six else packet.nxt,
        "length": len(packet),
    })  # fmt: skip
    head = f"{'IP6' if six else 'IP'} {source} > {destination}"
    body = packet.data
    if isinstance(body, dpkt.icmp.ICMP):
        return _icmp(body, head, layers, ICMP_NAMES, "icmp", "ICMP")
    if isinstance(body, dpkt.icmp6.ICMP6):
        return _icmp(body, head, layers, ICMP6_NAMES, "icmp6", "ICMP6")
    if isinstance(body, dpkt.tcp.TCP):
        flags = "".join(letter for letter, bit in TCP_FLAGS if body.flags & bit) or "none"
        layers.append({"layer": "TCP", "source_port": body.sport, "destination_port": body.dport,
                       "flags": flags, "seq": body.seq, "ack": body.ack,
                       "length": len(body.data)})  # fmt: skip
        ports = f"{source}.{body.sport} > {destination}.{body.dport}"
        line = f"{'IP6' if six else 'IP'} {ports}: Flags [{flags}], seq {body.seq}"
        return Decoded("tcp", f"{line}, length {len(body.data)}", layers)
    if isinstance(body, dpkt.udp.UDP):
        layers.append({"layer": "UDP", "source_port": body.sport, "destination_port": body.dport,
                       "length": len(body.data)})  # fmt: skip
        ports = f"{'IP6' if six else 'IP'} {source}.{body.sport} > {destination}.{body.dport}"
        dns = _dns(body) if 53 in (body.sport, body.dport) else None
        return Decoded("udp", f"{ports}: {dns or f'UDP, length {len(body.data)}'}", layers)
    return Decoded("ip6" if six else "ip", f"{head}: protocol {layers[-1]['protocol']}", layers)


def _icmp(
    body: Any, head: str, layers: list[dict[str, Any]], names: dict[int, str], kind: str,
    word: str,
) -> Decoded:  # fmt: skip
    name = names.get(body.type, f"type {body.type}")
    layer: dict[str, Any] = {"layer": word, "type": body.type, "code": body.code, "name": name}
    words = f"{word} {name}"
    echo = body.data
    if isinstance(echo, dpkt.icmp.ICMP.Echo | dpkt.icmp6.ICMP6.Echo):
        layer.update(id=echo.id, seq=echo.seq)
        words += f", id {echo.id}, seq {echo.seq}"
    elif kind == "icmp6" and body.type in (135, 136) and len(bytes(body.data)) >= 20:
        target = _ip(bytes(body.data)[4:20])
        layer["target"] = target
        words += f", {'who has' if body.type == 135 else 'tgt is'} {target}"
    layers.append(layer)
    return Decoded(kind, f"{head}: {words}", layers)


def _dns(udp: Any) -> str | None:
    try:
        message = dpkt.dns.DNS(udp.data)
    except (dpkt.UnpackError, ValueError, IndexError):
        return None
    questions = " ".join(f"{question.name}?" for question in message.qd)
    answers = " ".join(
        socket.inet_ntoa(answer.rdata) for answer in message.an if answer.type == dpkt.dns.DNS_A
    )
    kind = "response" if message.qr else "query"
    return f"DNS {kind} {questions} {answers}".strip()
