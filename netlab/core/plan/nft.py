"""nftables: a node's NAT and port forwards as netlab's one table (family inet) in its namespace.

Built as JSON (what the driver applies, atomically) and as nft text (what the script and the
learner read), with the iptables commands a tutorial would show for the same rules.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from netlab.core import addressing
from netlab.core.document import Nat, PortForward
from netlab.core.shell import command

if TYPE_CHECKING:
    from netlab.core.plan.steps import ApplyNftables


def _family(version: int) -> str:
    return "ip" if version == 4 else "ip6"


def _forward_target(forward: PortForward) -> tuple[addressing.IPAddress, int]:
    address, port = addressing.parse_socket(forward.to)
    return address, port if port is not None else forward.port


def nft_ruleset(
    table: str, nat: tuple[Nat, ...], forwards: tuple[PortForward, ...]
) -> dict[str, Any]:
    """Return the nft JSON (``nft -j -f -``) that adds ``table`` with these rules."""
    base = {"family": "inet", "table": table}
    commands: list[dict[str, Any]] = [{"add": {"table": {"family": "inet", "name": table}}}]
    if forwards:
        commands.append(
            {
                "add": {
                    "chain": {
                        **base,
                        "name": "prerouting",
                        "type": "nat",
                        "hook": "prerouting",
                        "prio": -100,
                        "policy": "accept",
                    }
                }
            }
        )
    if nat:
        commands.append(
            {
                "add": {
                    "chain": {
                        **base,
                        "name": "postrouting",
                        "type": "nat",
                        "hook": "postrouting",
                        "prio": 100,
                        "policy": "accept",
                    }
                }
            }
        )
    for forward in forwards:
        address, port = _forward_target(forward)
        expressions: list[dict[str, Any]] = []
        if forward.in_ is not None:
            expressions.append(_match({"meta": {"key": "iifname"}}, forward.in_))
        # nfproto pins the rule to the target's family: an inet table sees both.
        expressions.append(_match({"meta": {"key": "nfproto"}}, f"ipv{address.version}"))
        expressions.append(
            _match({"payload": {"protocol": forward.protocol, "field": "dport"}}, forward.port)
        )
        expressions.append(
            {"dnat": {"family": _family(address.version), "addr": str(address), "port": port}}
        )
        commands.append({"add": {"rule": {**base, "chain": "prerouting", "expr": expressions}}})
    for rule in nat:
        source = addressing.parse_prefix(rule.source)
        expressions = [
            _match(
                {"payload": {"protocol": _family(source.version), "field": "saddr"}},
                {"prefix": {"addr": str(source.network_address), "len": source.prefixlen}},
            )
        ]
        if rule.out is not None:
            expressions.append(_match({"meta": {"key": "oifname"}}, rule.out))
        expressions.append({"masquerade": None})
        commands.append({"add": {"rule": {**base, "chain": "postrouting", "expr": expressions}}})
    return {"nftables": commands}


def _match(left: dict[str, Any], right: Any) -> dict[str, Any]:
    return {"match": {"op": "==", "left": left, "right": right}}


def nft_text(table: str, nat: tuple[Nat, ...], forwards: tuple[PortForward, ...]) -> str:
    """Return the same table as :func:`nft_ruleset`, in ``nft -f`` syntax."""
    lines = [f"table inet {table} {{"]
    if forwards:
        lines += [
            "  chain prerouting {",
            "    type nat hook prerouting priority dstnat; policy accept;",
        ]
        for forward in forwards:
            address, port = _forward_target(forward)
            where = f"iifname {_nft_string(forward.in_)} " if forward.in_ else ""
            target = f"{address}:{port}" if address.version == 4 else f"[{address}]:{port}"
            lines.append(
                f"    {where}meta nfproto ipv{address.version} {forward.protocol} "
                f"dport {forward.port} dnat {_family(address.version)} to {target}"
            )
        lines.append("  }")
    if nat:
        lines += [
            "  chain postrouting {",
            "    type nat hook postrouting priority srcnat; policy accept;",
        ]
        for rule in nat:
            source = addressing.parse_prefix(rule.source)
            out = f" oifname {_nft_string(rule.out)}" if rule.out else ""
            lines.append(f"    {_family(source.version)} saddr {source}{out} masquerade")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nft_string(name: str) -> str:
    """Return an interface name as an nft string: nft's quotes take no escapes at all."""
    if '"' in name or not name.isprintable():
        raise ValueError(f"{name!r} cannot be written as an nft string")
    return f'"{name}"'


_IPTABLES = {4: "iptables", 6: "ip6tables"}


def iptables_lines(nat: tuple[Nat, ...], forwards: tuple[PortForward, ...]) -> list[str]:
    """Return the tutorial's iptables commands for the same rules (shown as comments).

    Each is one command line, every word quoted; the caller makes it a comment.
    """
    lines = []
    for rule in nat:
        version = addressing.parse_prefix(rule.source).version
        out = ("-o", rule.out) if rule.out else ()
        lines.append(
            command(_IPTABLES[version], "-t", "nat", "-A", "POSTROUTING", "-s", rule.source, *out)
            + " -j MASQUERADE"
        )
    for forward in forwards:
        address, port = _forward_target(forward)
        where = ("-i", forward.in_) if forward.in_ else ()
        target = f"{address}:{port}" if address.version == 4 else f"[{address}]:{port}"
        lines.append(
            command(
                _IPTABLES[address.version],
                *("-t", "nat", "-A", "PREROUTING", *where),
                *("-p", forward.protocol, "--dport", str(forward.port)),
                *("-j", "DNAT", "--to-destination", target),
            )
        )
    return lines


def nft_json(step: ApplyNftables) -> str:
    """Return the JSON text the driver pipes to ``nft -j -f -`` for ``step``."""
    return json.dumps(step.ruleset(), separators=(",", ":"))
