"""Turn untrusted data into a valid :class:`Document`, or into the list of everything wrong with it.

Three stages: the *data* (every string storable, every number of a sane size), the *shape*
(pydantic: types, required and unknown fields), then the *meaning* (addresses, names,
references, gateways on-link). Every problem carries the path of the
field it is about, in the form ``links[2].endpoints[0].addresses[0]``, so the API, the CLI
and the canvas can all point at it. The first two stages live in :mod:`netlab.core.problems`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
import threading
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from netlab.core import addressing, consistency, names
from netlab.core.document import (
    NAMESPACE_KINDS,
    Document,
    Endpoint,
    Impairment,
    Link,
    Node,
    Subinterface,
)
from netlab.core.problems import (
    LINK_SEPARATOR,
    MAX_DATA_PROBLEMS,
    MAX_INTEGER,
    InvalidDesign,
    Problem,
    data_problems,
    format_path,
    name_elements,
    shape_problems,
)

# Callers read every stage's names from here, where a document is read.
__all__ = [
    "MAX_DATA_PROBLEMS",
    "MAX_INTEGER",
    "InvalidDesign",
    "Problem",
    "data_problems",
    "format_path",
    "load",
    "parse",
    "problems_of",
    "validate",
    "warnings_of",
]

# Fields that only make sense on some kinds of node, with the reason given to the user.
NAMESPACE_ONLY_FIELDS: tuple[str, ...] = (
    "forwarding",
    "nat",
    "port_forwards",
    "routes",
    "services",
    "subinterfaces",
    "site",
)
BRIDGE_ONLY_FIELDS: tuple[str, ...] = ("in_", "addresses", "vlan_filtering")

# Bounds of an impairment's fields: what netem and tbf take (32-bit bytes/s and ticks), and
# what a lab needs (a minute of delay, 10 Gbit/s).
PERCENT_FIELDS: tuple[str, ...] = ("loss_percent", "corrupt_percent", "duplicate_percent")
MAX_DELAY_MS = 60_000
MAX_RATE_KBIT = 10_000_000
MIN_MTU, MAX_MTU = 68, 65535
# Below this the kernel turns IPv6 off on the interface (RFC 8200's minimum link MTU).
MIN_IPV6_MTU = 1280
# 802.1Q: 0 means "no VLAN" (priority tags) and 4095 is reserved.
MIN_VLAN, MAX_VLAN = 1, 4094


def load(data: Any) -> Document:
    """Return the valid design that ``data`` describes, or raise :class:`InvalidDesign`.

    Each problem names its element (:attr:`Problem.element`) as the canvas shows it.
    Data found valid is remembered by its content (see :data:`_LOADED`).
    """
    key = _content_key(data)
    if key is not None:
        with _LOADED_LOCK:
            known = _LOADED.get(key)
            if known is not None:
                _LOADED.move_to_end(key)
                return known
    try:
        design = parse(data)
    except InvalidDesign as error:
        raise InvalidDesign(name_elements(data, error.problems)) from None
    problems = validate(design)
    if problems:
        raise InvalidDesign(name_elements(data, problems))
    if key is not None:
        with _LOADED_LOCK:
            _LOADED[key] = design
            while len(_LOADED) > LOADED_SIZE:
                _LOADED.popitem(last=False)
    return design


# Valid documents by a digest of their data's canonical JSON, the most recently read last:
# a revision is read again by each deploy, check and explanation, and in the embedded layout
# the worker reads what the web process validated when it was saved. The digest takes 1 ms
# for a star of 200 (parsing and checking it, 18 ms; a star of 1000, 4 ms against 130 ms).
LOADED_SIZE = 8  # a star of 1000 holds 2.4 MiB
_LOADED: OrderedDict[bytes, Document] = OrderedDict()
_LOADED_LOCK = threading.Lock()


def _content_key(data: Any) -> bytes | None:
    """The digest of ``data`` as canonical JSON; None for data that is not exactly JSON.

    Data that reads back unequal is not remembered: JSON would make one text of ``{1: x}``
    and ``{"1": x}`` (or of a tuple and a list), which need not be equally valid.
    """
    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None
    if json.loads(text) != data:
        return None
    return hashlib.sha256(text.encode()).digest()


def problems_of(data: Any) -> list[Problem]:
    """Return every problem of ``data`` as a design document; empty when it is valid."""
    try:
        load(data)
    except InvalidDesign as error:
        return error.problems
    return []


def warnings_of(
    data: Any, also: Callable[[Document], list[Problem]] | None = None
) -> list[Problem]:
    """Return the warnings of ``data`` (:mod:`netlab.core.consistency`), then ``also``'s
    (e.g. what a site's kernel lacks), each naming its element; empty when its shape is wrong
    (the problems say why). Warnings never make a document invalid."""
    try:
        design = parse(data)
    except InvalidDesign:
        return []
    found = consistency.warnings(design) + (also(design) if also is not None else [])
    return name_elements(data, found)


def parse(data: Any) -> Document:
    """Check the shape of ``data`` and build the :class:`Document`; raise :class:`InvalidDesign`."""
    if not isinstance(data, dict):
        raise InvalidDesign([Problem("", "a design document must be a mapping (a JSON object)")])
    problems = data_problems(data)
    if problems:
        raise InvalidDesign(problems)
    try:
        return Document.model_validate(data)
    except ValidationError as error:
        raise InvalidDesign(shape_problems(error)) from None
    except RecursionError:
        raise InvalidDesign([Problem("", "the document is nested too deeply")]) from None


def validate(design: Document) -> list[Problem]:
    """Return every problem in the meaning of a well-shaped design, in document order.

    A document found valid is remembered (documents are immutable): the worker, the engine
    and the compiler each ask about the same one, and a star of 1000 takes ~0.1 s to check.
    """
    if _VALID.get(id(design)) is design:
        return []
    problems = list(_Checker(design).problems())
    if not problems:
        _VALID[id(design)] = design
    return problems


# Documents found valid, by id (weakly: a document is forgotten with its last reference).
_VALID: weakref.WeakValueDictionary[int, Document] = weakref.WeakValueDictionary()


class _Checker:
    """One pass over a design. Kept as a class so the indexes are built once."""

    def __init__(self, design: Document) -> None:
        self.design = design
        self.node_ids = {node.id for node in design.nodes}
        self.by_id = {node.id: node for node in design.nodes}
        self.holders = design.holders()

    def problems(self) -> Iterator[Problem]:
        yield from self._name()
        yield from self._nodes()
        yield from self._links()
        yield from self._link_settings()
        yield from self._port_vlans()
        yield from self._subinterfaces()
        yield from self._interfaces()
        yield from self._addresses()
        for index, node in enumerate(self.design.nodes):
            if node.kind in NAMESPACE_KINDS:
                yield from self._node_settings(index, node)

    def _name(self) -> Iterator[Problem]:
        problem = names.design_name_problem(self.design.name)
        if problem:
            yield Problem("name", problem)

    def _nodes(self) -> Iterator[Problem]:
        seen: set[str] = set()
        hosts = 0
        for index, node in enumerate(self.design.nodes):
            path = f"nodes[{index}]"
            problem = names.node_id_problem(node.id)
            if problem:
                yield Problem(f"{path}.id", problem)
            elif node.kind == "bridge" and (problem := names.interface_name_problem(node.id)):
                yield Problem(f"{path}.id", f"a bridge's id is its interface name: {problem}")
            if node.id in seen:
                yield Problem(
                    f"{path}.id", f"duplicate node id {node.id!r}: another node already has it"
                )
            seen.add(node.id)
            hosts += node.kind == "host"
            if node.position is not None:
                for axis in ("x", "y"):
                    # NaN and infinities are not JSON, and no canvas can place them.
                    if not math.isfinite(getattr(node.position, axis)):
                        yield Problem(
                            f"{path}.position.{axis}", "a position must be a finite number"
                        )
            yield from self._fields_of_kind(path, node)
            if node.kind == "bridge":
                holder = self.holder_of(node)
                if holder not in self.by_id:
                    yield Problem(f"{path}.in", f"no node {holder!r} to hold this bridge")
                elif self.by_id[holder].kind not in NAMESPACE_KINDS:
                    yield Problem(
                        f"{path}.in", f"{holder!r} is a bridge; a bridge lives in a namespace"
                    )
        if hosts != 1:
            yield Problem("nodes", f"a design has exactly one node of kind 'host'; found {hosts}")

    def _fields_of_kind(self, path: str, node: Node) -> Iterator[Problem]:
        if node.kind == "bridge":
            wrong, hint = NAMESPACE_ONLY_FIELDS, "only the host and namespaces have"
        else:
            wrong, hint = BRIDGE_ONLY_FIELDS, "only bridges have"
        for field in wrong:
            if field in node.model_fields_set:
                alias = field.rstrip("_")
                yield Problem(f"{path}.{alias}", f"a {node.kind} has no {alias!r}; {hint} it")

    def _links(self) -> Iterator[Problem]:
        for link_index, link in enumerate(self.design.links):
            for end_index, endpoint in enumerate(link.endpoints):
                path = f"links[{link_index}].endpoints[{end_index}]"
                if endpoint.node not in self.node_ids:
                    yield Problem(f"{path}.node", f"no node {endpoint.node!r} in this design")
                problem = names.interface_name_problem(endpoint.interface)
                if problem:
                    yield Problem(f"{path}.interface", problem)
                node = self.by_id.get(endpoint.node)
                if node is not None and node.kind == "bridge" and endpoint.addresses:
                    yield Problem(
                        f"{path}.addresses",
                        f"{endpoint.interface} is a port of bridge {node.id!r} and takes no "
                        "address; put the address on the bridge itself",
                    )

    def _link_settings(self) -> Iterator[Problem]:
        """Impairments (on the link and on each end), the MTU."""
        for link_index, link in enumerate(self.design.links):
            path = f"links[{link_index}]"
            if link.impairment is not None:
                yield from _impairment(f"{path}.impairment", link.impairment)
            for end_index, endpoint in enumerate(link.endpoints):
                if endpoint.impairment is not None:
                    end_path = f"{path}.endpoints[{end_index}].impairment"
                    yield from _impairment(end_path, endpoint.impairment)
            yield from _jitter_without_delay(path, link)
            if link.mtu is not None:
                if not MIN_MTU <= link.mtu <= MAX_MTU:
                    yield Problem(
                        f"{path}.mtu", f"an MTU is from {MIN_MTU} to {MAX_MTU}; {link.mtu} is not"
                    )
                elif link.mtu < MIN_IPV6_MTU:
                    yield from self._ipv6_below_mtu(path, link)

    def _port_vlans(self) -> Iterator[Problem]:
        """A bridge port's access VLAN or trunk: on a filtering bridge, one or the other."""
        for link_index, link in enumerate(self.design.links):
            for end_index, endpoint in enumerate(link.endpoints):
                if endpoint.vlan is None and not endpoint.trunk:
                    continue
                path = f"links[{link_index}].endpoints[{end_index}]"
                field = "vlan" if endpoint.vlan is not None else "trunk"
                node = self.by_id.get(endpoint.node)
                if node is not None and node.kind != "bridge":
                    yield Problem(
                        f"{path}.{field}",
                        f"only a bridge's port has a {field}; {endpoint.node} is a {node.kind} "
                        "(a VLAN on a namespace is a sub-interface)",
                    )
                elif node is not None and not node.vlan_filtering:
                    yield Problem(
                        f"{path}.{field}",
                        f"bridge {node.id} does not filter VLANs: set its vlan_filtering "
                        f"to true for {endpoint.interface}'s {field}",
                    )
                if endpoint.vlan is not None and endpoint.trunk:
                    yield Problem(
                        f"{path}.trunk",
                        f"{endpoint.interface} is an access port of VLAN {endpoint.vlan} or a "
                        "trunk, not both",
                    )
                if endpoint.vlan is not None:
                    yield from _vlan_id(f"{path}.vlan", endpoint.vlan)
                seen: set[int] = set()
                for index, vlan in enumerate(endpoint.trunk):
                    yield from _vlan_id(f"{path}.trunk[{index}]", vlan)
                    if vlan in seen:
                        yield Problem(f"{path}.trunk[{index}]", f"VLAN {vlan} is listed twice")
                    seen.add(vlan)

    def _subinterfaces(self) -> Iterator[Problem]:
        """A sub-interface sits on one of its node's link ends, once per VLAN."""
        ends_of: dict[str, set[str]] = defaultdict(set)
        for link in self.design.links:
            for endpoint in link.endpoints:
                ends_of[endpoint.node].add(endpoint.interface)
        for node_index, node in enumerate(self.design.nodes):
            ends = ends_of[node.id]
            seen: dict[tuple[str, int], str] = {}
            for index, sub in enumerate(node.subinterfaces):
                path = f"nodes[{node_index}].subinterfaces[{index}]"
                if sub.parent not in ends:
                    known = ", ".join(sorted(ends)) or "none"
                    yield Problem(
                        f"{path}.parent",
                        f"{node.id} has no link end {sub.parent!r} to carry VLAN {sub.vlan} "
                        f"(it has: {known})",
                    )
                yield from _vlan_id(f"{path}.vlan", sub.vlan)
                key = (sub.parent, sub.vlan)
                if key in seen:
                    yield Problem(
                        f"{path}.vlan",
                        f"VLAN {sub.vlan} on {sub.parent} is already {self.place(seen[key])}",
                    )
                seen.setdefault(key, path)
                problem = names.interface_name_problem(sub.interface)
                if problem:
                    where = f"{path}.name" if sub.name is not None else path
                    yield Problem(where, f"{sub.interface!r}: {problem}")

    def _ipv6_below_mtu(self, path: str, link: Link) -> Iterator[Problem]:
        for end_index, endpoint in enumerate(link.endpoints):
            for address_index, text in enumerate(endpoint.addresses):
                if ":" in text:
                    yield Problem(
                        f"{path}.endpoints[{end_index}].addresses[{address_index}]",
                        f"IPv6 needs an MTU of at least {MIN_IPV6_MTU} and this link's is "
                        f"{link.mtu}: the kernel turns IPv6 off on {endpoint.interface}",
                    )
            # A VLAN sub-interface takes its parent's MTU.
            for where, sub, address_index in self._subinterface_addresses(endpoint):
                if ":" in sub.addresses[address_index]:
                    yield Problem(
                        f"{where}.addresses[{address_index}]",
                        f"IPv6 needs an MTU of at least {MIN_IPV6_MTU} and {sub.interface} takes "
                        f"{sub.parent}'s, {link.mtu}: the kernel turns IPv6 off on it",
                    )

    def _subinterface_addresses(
        self, endpoint: Endpoint
    ) -> Iterator[tuple[str, Subinterface, int]]:
        """Yield (path, sub-interface, address index) for each address of the sub-interfaces
        stacked on ``endpoint``."""
        for node_index, node in enumerate(self.design.nodes):
            if node.id != endpoint.node:
                continue
            for sub_index, sub in enumerate(node.subinterfaces):
                if sub.parent == endpoint.interface:
                    for address_index in range(len(sub.addresses)):
                        yield f"nodes[{node_index}].subinterfaces[{sub_index}]", sub, address_index

    def _interfaces(self) -> Iterator[Problem]:
        """Interface names are unique within each namespace, bridges included."""
        seen: dict[tuple[str, str], str] = {}
        for path, namespace, interface in self.interfaces():
            key = (namespace, interface)
            if key in seen:
                yield Problem(
                    path,
                    f"interface {interface!r} already exists in {namespace!r} "
                    f"({self.place(seen[key])})",
                )
            else:
                seen[key] = path

    def _addresses(self) -> Iterator[Problem]:
        seen: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str] = {}
        for path, _namespace, _interface, text in self.address_texts():
            try:
                address = addressing.parse_interface_address(text)
            except ValueError as error:
                yield Problem(path, str(error))
                continue
            if address.ip in seen:
                yield Problem(
                    path, f"address {address.ip} is already used by {self.place(seen[address.ip])}"
                )
            else:
                seen[address.ip] = path

    def _node_settings(self, index: int, node: Node) -> Iterator[Problem]:
        path = f"nodes[{index}]"
        if node.site is not None and (problem := names.site_name_problem(node.site)):
            yield Problem(f"{path}.site", problem)
        interfaces = self.interfaces_in(node.id)
        subnets = self.subnets_in(node.id)
        destinations: dict[str, str] = {}
        for route_index, route in enumerate(node.routes):
            route_path = f"{path}.routes[{route_index}]"
            yield from self._route(
                route_path, node, route.to, route.via, route.dev, interfaces, subnets
            )
            key = _route_key(route.to, route.via)
            if key in destinations:
                yield Problem(
                    f"{route_path}.to",
                    f"a route to {route.to} is already {self.place(destinations[key])}",
                )
            destinations.setdefault(key, route_path)
        for nat_index, nat in enumerate(node.nat):
            nat_path = f"{path}.nat[{nat_index}]"
            yield from _try(f"{nat_path}.source", addressing.parse_prefix, nat.source)
            if nat.out is not None and nat.out not in interfaces:
                yield Problem(f"{nat_path}.out", _no_interface(nat.out, node.id, interfaces))
        for forward_index, forward in enumerate(node.port_forwards):
            forward_path = f"{path}.port_forwards[{forward_index}]"
            yield from _try(f"{forward_path}.port", addressing.check_port, forward.port)
            if forward.in_ is not None and forward.in_ not in interfaces:
                yield Problem(f"{forward_path}.in", _no_interface(forward.in_, node.id, interfaces))
            yield from _try(f"{forward_path}.to", addressing.parse_socket, forward.to)
        ports: dict[int, str] = {}
        for service_index, service in enumerate(node.services):
            service_path = f"{path}.services[{service_index}].port"
            yield from _try(service_path, addressing.check_port, service.port)
            if service.port in ports:
                yield Problem(
                    service_path,
                    f"port {service.port} is already used by {self.place(ports[service.port])}",
                )
            ports.setdefault(service.port, service_path)

    def _route(
        self,
        path: str,
        node: Node,
        to: str,
        via: str | None,
        dev: str | None,
        interfaces: set[str],
        subnets: list[addressing.IPNetwork],
    ) -> Iterator[Problem]:
        try:
            destination = addressing.parse_route_destination(to)
        except ValueError as error:
            yield Problem(f"{path}.to", str(error))
            destination = None
        if via is None and dev is None:
            yield Problem(path, "a route needs a gateway ('via') or an interface ('dev')")
        if dev is not None and dev not in interfaces:
            yield Problem(f"{path}.dev", _no_interface(dev, node.id, interfaces))
        if via is None:
            return
        try:
            gateway = addressing.parse_address(via)
        except ValueError as error:
            yield Problem(f"{path}.via", str(error))
            return
        if destination is not None and not addressing.same_family(destination, gateway):
            yield Problem(f"{path}.via", f"{via} and {to} are not of the same IP version")
        elif dev is None and not any(gateway in subnet for subnet in subnets):
            yield Problem(f"{path}.via", f"{via} is not on any subnet of {node.id}")

    def place(self, path: str) -> str:
        """Name the place ``path`` points at as the user sees it, for a message about another
        place: ``bridge v-net-0``, ``the end on red of link red — v-net-0``, ``route 1 of
        blue``, ``service 1 of blue``; the path itself for anything else."""
        node = _NODE_PLACE.match(path)
        if node:
            found = self.design.nodes[int(node["index"])]
            if node["list"] is None:
                return f"{found.kind} {found.id}"
            noun = {"routes": "route", "services": "service"}.get(node["list"], "sub-interface")
            return f"{noun} {int(node['item']) + 1} of {found.id}"
        end = _END_PLACE.match(path)
        if end:
            ends = self.design.links[int(end["link"])].endpoints
            names = LINK_SEPARATOR.join(endpoint.node for endpoint in ends)
            return f"the end on {ends[int(end['end'])].node} of link {names}"
        return path

    # What lives in which namespace, by the document's one rule (``Document.holders``), which
    # the compiler uses too.

    def holder_of(self, bridge: Node) -> str:
        return self.design.holder_of(bridge)

    def holder_node_of(self, node_id: str) -> str:
        """Return the id of the namespace node that holds ``node_id``'s interfaces.

        An unknown node (a link end naming no node, reported elsewhere) holds its own.
        """
        return self.holders.get(node_id, node_id)

    def interfaces(self) -> Iterator[tuple[str, str, str]]:
        """Yield (path, namespace node id, interface name) for every interface of the design."""
        for index, node in enumerate(self.design.nodes):
            if node.kind == "bridge":
                yield f"nodes[{index}].id", self.holder_of(node), node.id
        for link_index, link in enumerate(self.design.links):
            for end_index, endpoint in enumerate(link.endpoints):
                path = f"links[{link_index}].endpoints[{end_index}].interface"
                yield path, self.holder_node_of(endpoint.node), endpoint.interface
        # After the link ends they are stacked on: a clash is the sub-interface's.
        for index, node in enumerate(self.design.nodes):
            for sub_index, sub in enumerate(node.subinterfaces):
                where = f"nodes[{index}].subinterfaces[{sub_index}]"
                yield (f"{where}.name" if sub.name is not None else where), node.id, sub.interface

    def address_texts(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield (path, namespace node id, interface, address text) for every address."""
        for index, node in enumerate(self.design.nodes):
            if node.kind == "bridge":
                for address_index, text in enumerate(node.addresses):
                    path = f"nodes[{index}].addresses[{address_index}]"
                    yield path, self.holder_of(node), node.id, text
        for link_index, link in enumerate(self.design.links):
            for end_index, endpoint in enumerate(link.endpoints):
                for address_index, text in enumerate(endpoint.addresses):
                    path = f"links[{link_index}].endpoints[{end_index}].addresses[{address_index}]"
                    yield path, self.holder_node_of(endpoint.node), endpoint.interface, text
        for index, node in enumerate(self.design.nodes):
            for sub_index, sub in enumerate(node.subinterfaces):
                for address_index, text in enumerate(sub.addresses):
                    path = f"nodes[{index}].subinterfaces[{sub_index}].addresses[{address_index}]"
                    yield path, node.id, sub.interface, text

    def interfaces_in(self, namespace: str) -> set[str]:
        return self._interfaces_by_namespace.get(namespace, set())

    def subnets_in(self, namespace: str) -> list[addressing.IPNetwork]:
        return self._subnets_by_namespace.get(namespace, [])

    # Built once per check: looking them up per node would make validation quadratic.

    @cached_property
    def _interfaces_by_namespace(self) -> dict[str, set[str]]:
        grouped: dict[str, set[str]] = defaultdict(set)
        for _path, holder, name in self.interfaces():
            grouped[holder].add(name)
        return grouped

    @cached_property
    def _subnets_by_namespace(self) -> dict[str, list[addressing.IPNetwork]]:
        grouped: dict[str, list[addressing.IPNetwork]] = defaultdict(list)
        for _path, holder, _interface, text in self.address_texts():
            try:
                grouped[holder].append(addressing.parse_interface_address(text).network)
            except ValueError:
                continue  # reported by _addresses
        return grouped


_NODE_PLACE = re.compile(
    r"^nodes\[(?P<index>\d+)\](?:\.(?P<list>routes|services|subinterfaces)\[(?P<item>\d+)\])?"
)
_END_PLACE = re.compile(r"^links\[(?P<link>\d+)\]\.endpoints\[(?P<end>\d+)\]")


def _route_key(to: str, via: str | None) -> str:
    """Return the destination as the kernel compares it: a prefix, per IP version.

    ``default`` and ``0.0.0.0/0`` are the same route; an IPv4 and an IPv6 default are not.
    """
    try:
        destination = addressing.parse_route_destination(to)
    except ValueError:
        return to
    if destination is not None:
        return str(destination)
    try:
        version = addressing.parse_address(via).version if via is not None else 4
    except ValueError:
        version = 4
    return "::/0" if version == 6 else "0.0.0.0/0"


def _vlan_id(path: str, vlan: int) -> Iterator[Problem]:
    if not MIN_VLAN <= vlan <= MAX_VLAN:
        yield Problem(path, f"a VLAN id is from {MIN_VLAN} to {MAX_VLAN}; {vlan} is not")


def _impairment(path: str, impairment: Impairment) -> Iterator[Problem]:
    for field, value in impairment.model_dump(exclude_none=True).items():
        where = f"{path}.{field}"
        if not math.isfinite(value):
            yield Problem(where, "an impairment is a finite number")
        elif value < 0:
            yield Problem(where, f"an impairment is not negative; {value} is")
        elif field in PERCENT_FIELDS and value > 100:
            yield Problem(where, f"a percentage is at most 100; {value} is over")
        elif field in ("delay_ms", "jitter_ms") and value > MAX_DELAY_MS:
            yield Problem(
                where, f"a delay is at most {MAX_DELAY_MS} ms (a minute); {value} is over"
            )
        elif field == "rate_kbit" and not 1 <= value <= MAX_RATE_KBIT:
            yield Problem(
                where, f"a rate is from 1 to {MAX_RATE_KBIT} kbit/s (10 Gbit/s); {value} is not"
            )


def _jitter_without_delay(path: str, link: Link) -> Iterator[Problem]:
    """Jitter varies a delay: an end whose impairment (its own over the link's) has jitter
    and no delay is told where its jitter was written (the link's, once)."""
    told: set[str] = set()
    for end_index, endpoint in enumerate(link.endpoints):
        found = link.impairment_of(end_index)
        if found is None or found.jitter_ms is None or found.delay_ms:
            continue
        own = endpoint.impairment
        if own is not None and own.jitter_ms is not None:
            where = f"{path}.endpoints[{end_index}].impairment.jitter_ms"
        else:
            where = f"{path}.impairment.jitter_ms"
        if where not in told:
            told.add(where)
            yield Problem(
                where,
                f"jitter varies a delay: {endpoint.interface}'s egress has jitter and no delay",
            )


def _try(path: str, parse: Any, value: Any) -> Iterator[Problem]:
    try:
        parse(value)
    except ValueError as error:
        yield Problem(path, str(error))


def _no_interface(name: str, node_id: str, interfaces: set[str]) -> str:
    known = ", ".join(sorted(interfaces)) or "none"
    return f"{node_id} has no interface {name!r} (it has: {known})"
