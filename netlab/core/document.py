"""The ``netlab/v1`` design document: the one contract between canvas, API, database and engine.

The models here describe the *shape* of a document only. Every field that holds an address,
a prefix or an interface name is kept as the text the user wrote, so that a document survives
a round trip byte for byte; ``netlab.core.validation`` checks what the text means and reports
every problem at once, each with its path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

FORMAT: Literal["netlab/v1"] = "netlab/v1"

NodeKind = Literal["host", "namespace", "bridge"]
# The kinds of node that are a network namespace (their own, or the host's in host mode); a
# bridge is an interface inside one of them.
NAMESPACE_KINDS: tuple[NodeKind, ...] = ("host", "namespace")
Protocol = Literal["tcp", "udp"]
ServiceKind = Literal["http", "tcp"]

Number = StrictInt | StrictFloat


class Element(BaseModel):
    """Base of every document model: immutable and closed to unknown fields.

    Scalars are strict (``"80"`` is not a port, ``"yes"`` is not a boolean); arrays accept
    any sequence, since YAML and JSON both give lists.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        serialize_by_alias=True,
        # Validators are built when a document is first read, not when this module is
        # imported: commands that never read one (netlab status) start ~40 ms sooner.
        defer_build=True,
    )


class Position(Element):
    """Where a node sits on the canvas, in canvas units."""

    x: Number
    y: Number


class Route(Element):
    """A route in a node's main table: ``ip route add TO via VIA [dev DEV]``."""

    to: StrictStr = Field(description="'default' or a prefix such as 192.168.1.0/24")
    via: StrictStr | None = Field(default=None, description="gateway address, on-link")
    dev: StrictStr | None = Field(default=None, description="interface of this node")


class Nat(Element):
    """Source NAT (masquerade) of packets from ``source`` leaving through ``out``."""

    source: StrictStr = Field(description="prefix whose packets are masqueraded")
    out: StrictStr | None = Field(default=None, description="outgoing interface; any when absent")


class PortForward(Element):
    """Destination NAT: traffic to ``port`` on this node (arriving on ``in``) goes to ``to``."""

    protocol: Protocol = "tcp"
    port: StrictInt
    in_: StrictStr | None = Field(
        default=None, alias="in", description="incoming interface; any when absent"
    )
    to: StrictStr = Field(description="address:port, or address alone for the same port")


class Service(Element):
    """A built-in responder listening inside a node, used to test reachability and forwards."""

    kind: ServiceKind
    port: StrictInt


class Subinterface(Element):
    """A VLAN sub-interface of a node: ``ip link add link PARENT name NAME type vlan id N``.

    Its frames leave through ``parent`` (one of the node's link ends) tagged with ``vlan``.
    """

    parent: StrictStr = Field(description="the link end (interface) it is stacked on")
    vlan: StrictInt = Field(description="VLAN id, 1-4094")
    name: StrictStr | None = Field(default=None, description="interface name (PARENT.VLAN)")
    addresses: tuple[StrictStr, ...] = ()

    @property
    def interface(self) -> str:
        """Its interface name: ``name``, else ``PARENT.VLAN`` (as ``ip link`` users write it)."""
        return self.name if self.name is not None else f"{self.parent}.{self.vlan}"


class Node(Element):
    """A node of the design: the host, a network namespace or a Linux bridge.

    ``forwarding``, ``nat``, ``port_forwards``, ``routes``, ``services``, ``subinterfaces``
    and ``site`` apply to the host and to namespaces (a bridge runs on its holder's site);
    ``in``, ``addresses`` and ``vlan_filtering`` apply to bridges. Validation reports a field
    used on the wrong kind.
    """

    id: StrictStr
    kind: NodeKind
    label: StrictStr | None = Field(default=None, description="display text for the canvas")
    position: Position | None = None
    forwarding: StrictBool = False
    nat: tuple[Nat, ...] = ()
    port_forwards: tuple[PortForward, ...] = ()
    routes: tuple[Route, ...] = ()
    services: tuple[Service, ...] = ()
    in_: StrictStr | None = Field(
        default=None, alias="in", description="the node holding this bridge (default: host)"
    )
    addresses: tuple[StrictStr, ...] = ()
    vlan_filtering: StrictBool = Field(
        default=False, description="a bridge that forwards by VLAN (ports' vlan and trunk)"
    )
    subinterfaces: tuple[Subinterface, ...] = ()
    site: StrictStr | None = Field(
        default=None,
        description="the site (machine) this node runs on; default: the lab's site. A link "
        "between nodes of two sites is a VXLAN tunnel",
    )


class Impairment(Element):
    """What an interface does to the packets it sends (its egress), like ``tc qdisc ... netem``.

    Every field is optional; an absent field impairs nothing. ``rate_kbit`` alone is a token
    bucket (``tbf``); any other field makes it ``netem`` (with the rate inside it).
    """

    delay_ms: Number | None = Field(default=None, description="added delay, in milliseconds")
    jitter_ms: Number | None = Field(
        default=None, description="random variation of the delay, in milliseconds (needs delay)"
    )
    loss_percent: Number | None = Field(default=None, description="packets dropped, 0-100")
    rate_kbit: Number | None = Field(default=None, description="rate limit, in kbit/s")
    corrupt_percent: Number | None = Field(default=None, description="packets corrupted, 0-100")
    duplicate_percent: Number | None = Field(default=None, description="packets sent twice, 0-100")

    def over(self, base: Impairment | None) -> Impairment:
        """Return this impairment laid over ``base``: each field set here wins, per field."""
        if base is None:
            return self
        return base.model_copy(update=self.model_dump(exclude_none=True))

    @property
    def empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())


class Endpoint(Element):
    """One end of a veth link: the interface it becomes in a node's namespace."""

    node: StrictStr
    interface: StrictStr
    addresses: tuple[StrictStr, ...] = ()
    impairment: Impairment | None = Field(
        default=None, description="this interface's egress; overrides the link's, per field"
    )
    vlan: StrictInt | None = Field(
        default=None, description="a bridge port's access VLAN (untagged), 1-4094"
    )
    trunk: tuple[StrictInt, ...] = Field(
        default=(), description="a bridge port's tagged VLANs, 1-4094"
    )


class Link(Element):
    """A veth pair between two nodes. An end on a bridge becomes a port of that bridge."""

    endpoints: Annotated[tuple[Endpoint, ...], Field(min_length=2, max_length=2)]
    impairment: Impairment | None = Field(
        default=None, description="the egress of both ends (an end's own fields win)"
    )
    mtu: StrictInt | None = Field(default=None, description="MTU of both ends, 68-65535")
    up: StrictBool = Field(default=True, description="false: both ends are down")

    def impairment_of(self, end: int) -> Impairment | None:
        """Return what end ``end`` (0 or 1) does to its egress: its own impairment over the
        link's, per field; None when nothing is impaired."""
        own = self.endpoints[end].impairment
        found = own.over(self.impairment) if own is not None else self.impairment
        return None if found is None or found.empty else found


# Named *document* to keep it apart from ``editor.models.Design``, the database row whose
# revisions store documents. The docstring is the JSON Schema's description: keep it stable.
class Document(Element):
    """A whole lab design, as saved, shared, exported and deployed."""

    format: Literal["netlab/v1"] = FORMAT
    name: StrictStr = Field(description="slug, unique per owner")
    title: StrictStr = ""
    description: StrictStr = ""
    nodes: tuple[Node, ...] = ()
    links: tuple[Link, ...] = ()

    def node(self, node_id: str) -> Node | None:
        """Return the node called ``node_id``, or None."""
        return next((node for node in self.nodes if node.id == node_id), None)

    def holder_of(self, bridge: Node) -> str:
        """Return the id of the node holding ``bridge``: its ``in``, else the host node."""
        return _holder(bridge, self._host_id())

    def holders(self) -> dict[str, str]:
        """Return ``{node id: id of the namespace node holding its interfaces}``.

        A host or namespace node holds its own; a bridge lives in its ``in``, else in the host
        node. The one rule for "which namespace is this node's" (:meth:`holder_of` answers it for
        one bridge), used by validation and the compiler. Built in one pass: callers look nodes
        up many times. With a duplicate id the last node wins, as in any ``{node.id: node}``
        index.
        """
        host = self._host_id()
        return {
            node.id: _holder(node, host) if node.kind == "bridge" else node.id
            for node in self.nodes
        }

    def _host_id(self) -> str:
        # "host" when the design has no host node: validation reports that, and a bridge's
        # holder must still be some id to report against.
        return next((node.id for node in self.nodes if node.kind == "host"), "host")

    def to_data(self) -> dict[str, Any]:
        """Return the document as plain JSON-compatible data, defaults left out."""
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return {"format": self.format, **data}


def _holder(bridge: Node, host_id: str) -> str:
    return bridge.in_ if bridge.in_ is not None else host_id


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a ``netlab/v1`` document, for the browser and the docs."""
    schema = Document.model_json_schema(by_alias=True)
    schema["$id"] = "https://netlab.invalid/schema/netlab-v1.json"
    schema["title"] = "netlab/v1 design document"
    return schema
