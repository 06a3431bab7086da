"""The live lab's websocket protocol as typed models (docs/protocol.md is checked against them).

A client sends requests (``{"action": ...}``, :data:`Request`); the server pushes events
(``{"type": ...}``, :data:`Event`). Every model forbids extra fields, so a misspelt field is
an error rather than something silently ignored. Events are built by the worker and the
consumer and travel the channel layer as plain JSON-compatible dicts (``as_message``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from editor import deployments
from editor.models import Deployment, Revision

MAX_PING_COUNT = 100
MAX_REQUEST_CHARACTERS = 4096  # every valid request is far shorter
MAX_CELLS_PER_MESSAGE = 500  # ping-all cells in one pingall.cells message
MAX_TABLES_PER_MESSAGE = 100  # node tables in one tables message (a hub's links are large)


class Message(BaseModel):
    """Base of every protocol message: frozen, extra fields forbidden."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def as_message(self) -> dict[str, Any]:
        """Return the message as the JSON-compatible dict that goes on the wire."""
        return self.model_dump(mode="json")


# 8<----------------------------------------------------------------------------------------
# Requests: client to server.


class DeployRequest(Message):
    """Deploy the design's current revision (refused if already queued, deploying or running),
    on the site named ``site`` if given (else the least loaded live one)."""

    action: Literal["deploy"]
    site: Annotated[str, Field(max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")] | None = None


class DestroyRequest(Message):
    """Destroy the user's live deployment of the design."""

    action: Literal["destroy"]


class PingRequest(Message):
    """Ping ``target`` (an address, or a node id: its first address) from node ``source``."""

    action: Literal["ping"]
    source: str = Field(min_length=1, max_length=64)
    target: str = Field(min_length=1, max_length=64)
    count: int = Field(default=3, ge=1, le=MAX_PING_COUNT)


class PingAllRequest(Message):
    """Ping every address of the lab from every namespace node."""

    action: Literal["pingall"]


class PingAllStopRequest(Message):
    """Stop this page's running ping-alls: no more requests leave; each ends with a
    ``pingall.done`` saying ``cancelled`` and counting the cells measured until then."""

    action: Literal["pingall.stop"]


class ProbeRequest(Message):
    """Open a TCP connection from node ``source`` to ``target``: ``address:port``,
    ``[v6 address]:port``, or ``node id:port``."""

    action: Literal["probe"]
    source: str = Field(min_length=1, max_length=64)
    target: str = Field(min_length=3, max_length=80, pattern=r"^.+:\d{1,5}$")


class ApplyRequest(Message):
    """Change the user's running lab in place to the design's latest saved revision; with
    ``dry_run``, only answer the steps (a ``plan`` event to this page)."""

    action: Literal["apply"]
    dry_run: bool = False


class CaptureRequest(Message):
    """Capture the packets on ``node``'s ``interface`` for ``seconds`` (at most the server's
    limit), filtered by a BPF expression (tcpdump's syntax) when given."""

    action: Literal["capture"]
    node: str = Field(min_length=1, max_length=64)
    interface: str = Field(min_length=1, max_length=15)
    filter: str | None = Field(default=None, max_length=256)
    seconds: float = Field(default=30.0, gt=0, le=3600)


class CaptureStopRequest(Message):
    """Stop capture ``capture`` of this page (it ends with its ``capture.done``)."""

    action: Literal["capture.stop"]
    capture: str = Field(min_length=1, max_length=32)


class ConsoleRequest(Message):
    """Run one line on ``node``'s console: a diagnostic, or an edit of the design."""

    action: Literal["console"]
    node: str = Field(min_length=1, max_length=64)
    line: str = Field(min_length=1, max_length=1000)


class ConsoleStopRequest(Message):
    """Interrupt what ``node``'s console runs (Ctrl+C)."""

    action: Literal["console.stop"]
    node: str = Field(min_length=1, max_length=64)


def stop_name(request: CaptureRequest | CaptureStopRequest | ConsoleRequest | ConsoleStopRequest,
              capture: str = "") -> str:  # fmt: skip
    """The name a page stops a running probe by: a capture's id, or ``console:NODE`` (one
    console line at a time per node and page)."""
    if isinstance(request, ConsoleRequest | ConsoleStopRequest):
        return f"console:{request.node}"
    return request.capture if isinstance(request, CaptureStopRequest) else capture


def node_of(request: Message) -> str | None:
    """The node a request is about (a probe's source, a capture's or a console's node), for
    its ``error``; None for a request about the whole lab."""
    node = getattr(request, "node", None) or getattr(request, "source", None)
    return node if isinstance(node, str) else None


class ShowRequest(Message):
    """The page shows node ``node``'s tables (None: every node's): the worker reads the
    interface counters of shown nodes only. A page that never says is shown every node."""

    action: Literal["show"]
    node: str | None = Field(default=None, min_length=1, max_length=64)


Request = Annotated[
    DeployRequest
    | DestroyRequest
    | ApplyRequest
    | PingRequest
    | PingAllRequest
    | PingAllStopRequest
    | CaptureRequest
    | CaptureStopRequest
    | ConsoleRequest
    | ConsoleStopRequest
    | ProbeRequest
    | ShowRequest,
    Field(discriminator="action"),
]
REQUEST: TypeAdapter[Request] = TypeAdapter(Request)


class BadRequest(ValueError):
    """A client message that is not JSON, or not one of the requests; ``str()`` says why."""


def parse_request(text: str) -> Request:
    """Return the request in ``text``; raise :class:`BadRequest` with a readable reason."""
    if len(text) > MAX_REQUEST_CHARACTERS:
        raise BadRequest(f"messages must be at most {MAX_REQUEST_CHARACTERS} characters")
    try:
        data = json.loads(text)
        # A lone surrogate ("\ud800") is valid JSON but not text: no channel layer carries it.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # RecursionError: arrays nested a thousand deep
        raise BadRequest("messages must be JSON objects") from None
    if not isinstance(data, dict) or "action" not in data:
        raise BadRequest('messages must be JSON objects with an "action"')
    try:
        return REQUEST.validate_python(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'message'}: {problem['msg']}"
            for problem in error.errors(include_url=False)
        )
        raise BadRequest(problems) from None


# 8<----------------------------------------------------------------------------------------
# Events: server to client.


class DeploymentEvent(Message):
    """The deployment's state, sent on connect and at every change.

    ``deployment`` is None (and ``state`` "not deployed") when the user never deployed the
    design. ``namespaces`` maps node ids to kernel namespaces (None: the root namespace).
    ``updated`` is when the state last changed (ISO 8601, microseconds): messages may cross
    on their way, so of two about one deployment, the later ``updated`` is the current one.
    ``destroyable`` is whether a ``destroy`` request has something to act on now (the
    server's rule, ``editor.deployments.destroyable``: pages mirror it, never decide).
    """

    type: Literal["deployment"] = "deployment"
    deployment: int | None
    tag: str | None
    state: Literal[
        "not deployed",
        "queued",
        "deploying",
        "running",
        "applying",
        "failed",
        "destroying",
        "stopped",
        "unknown",
    ]
    error: str = ""
    namespaces: dict[str, str | None] = {}
    updated: str | None = None
    destroyable: bool = False
    revision: int | None = None  # the revision the lab runs (reflects)
    applying_revision: int | None = None  # while applying: the one it is being changed to


class StepEvent(Message):
    """A deploy's (or a live change's: ``action`` "apply") plan step as it starts
    (``outcome`` "started") and as it ends ("done" or "failed"); sent as an item of a
    ``steps`` message. A destroy is one kernel batch and has no steps.

    ``duration_ms`` and ``error`` are None until the step ended.
    """

    type: Literal["step"] = "step"
    deployment: int
    action: Literal["deploy", "apply"]
    index: int
    total: int
    description: str
    shell: str
    outcome: Literal["started", "done", "failed"]
    duration_ms: float | None = None
    error: str | None = None


class StepsEvent(Message):
    """Several steps of one deployment at once, each a ``step`` message: a burst as the
    worker recorded it, or (in bursts of at most :data:`MAX_STEPS_PER_MESSAGE`) the steps
    recorded so far, sent to a page as it connects."""

    type: Literal["steps"] = "steps"
    deployment: int
    steps: list[StepEvent]


class PingReplyEvent(Message):
    """One echo request's outcome, sent the moment it is known.

    A reply has ``rtt_ms``; a timeout or ICMP error has ``error`` ("timeout", "host
    unreachable"...) and ``rtt_ms`` None.
    """

    type: Literal["ping.reply"] = "ping.reply"
    source: str
    target: str
    seq: int
    rtt_ms: float | None
    from_address: str | None = None
    ttl: int | None = None
    error: str | None = None


class PingDoneEvent(Message):
    """The summary of a ping, after its last reply or timeout. ``loss`` is in percent."""

    type: Literal["ping.done"] = "ping.done"
    source: str
    target: str
    sent: int
    received: int
    loss: float
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None


class PingAllCellEvent(Message):
    """One cell of an all-pairs ping: node ``source`` to ``address``, owned by ``target``;
    sent as an item of a ``pingall.cells`` message."""

    type: Literal["pingall.cell"] = "pingall.cell"
    source: str
    target: str
    address: str
    sent: int
    received: int
    loss: float
    rtt_ms: float | None
    reachable: bool
    error: str | None = None


class PingAllCellsEvent(Message):
    """The cells of an all-pairs ping measured since the last such message (at most
    :data:`MAX_CELLS_PER_MESSAGE`), each a ``pingall.cell``."""

    type: Literal["pingall.cells"] = "pingall.cells"
    cells: list[PingAllCellEvent]


class PingAllProgressEvent(Message):
    """How far an all-pairs ping is: ``done`` of its ``total`` cells measured, ``reachable``
    of them reachable. Sent as it starts (``done`` 0), then a few times a second while cells
    arrive, and once more with the last cell."""

    type: Literal["pingall.progress"] = "pingall.progress"
    done: int
    total: int
    reachable: int


class PingAllDoneEvent(Message):
    """The end of an all-pairs ping: how many cells there were, how many reachable;
    ``cancelled`` when it was stopped (``pingall.stop``) before every cell was measured."""

    type: Literal["pingall.done"] = "pingall.done"
    total: int
    reachable: int
    cancelled: bool = False


class CaptureStartedEvent(Message):
    """A capture listens: its id, for ``capture.stop`` and its ``packet`` events."""

    type: Literal["capture.started"] = "capture.started"
    capture: str
    node: str
    interface: str
    seconds: float


class PacketEvent(Message):
    """One packet a capture saw: when (seconds since the epoch), its whole length, which way
    (in, out), its protocol (arp, icmp, icmp6, tcp, udp, ip, ip6, other), one line in
    tcpdump's words, its layers (Ethernet, ARP or IP, ICMP, TCP or UDP fields), and its
    first bytes (``data``, base64)."""

    type: Literal["packet"] = "packet"
    capture: str
    time: float
    length: int
    interface: str
    direction: Literal["in", "out"]
    protocol: str
    summary: str
    layers: list[dict[str, Any]]
    data: str = ""  # base64 of the frame's first bytes (at most PACKET_DATA_BYTES): for pcap


# A packet event carries the frame's first bytes, so the page can save what it saw as pcap.
PACKET_DATA_BYTES = 2048


class CaptureDoneEvent(Message):
    """The end of a capture (its time was up, or it was stopped): the packets it saw, and
    how many of them were not sent to the page (over the server's rate)."""

    type: Literal["capture.done"] = "capture.done"
    capture: str
    packets: int
    not_shown: int


class ConsoleOutputEvent(Message):
    """Output of a console line, as it comes."""

    type: Literal["console.output"] = "console.output"
    node: str
    output: str


class ConsoleDoneEvent(Message):
    """A console line ended: its exit code, and the revision it made when it was an edit."""

    type: Literal["console.done"] = "console.done"
    node: str
    exit_code: int
    edit: int | None = None


class ProbeEvent(Message):
    """The outcome of a TCP probe; ``error`` says why it did not connect."""

    type: Literal["probe"] = "probe"
    source: str
    address: str
    port: int
    connected: bool
    connect_ms: float | None
    first_line: str | None = None
    node: str | None = None
    error: str | None = None


class NeighbourEntry(Message):
    """One ARP (IPv4) or NDP (IPv6) entry; ``state`` as ``ip neigh`` shows it (REACHABLE...)."""

    address: str
    mac: str | None
    interface: str
    state: str


class NeighboursEvent(Message):
    """The whole neighbour table of one node's namespace: on connect and on every change."""

    type: Literal["neighbours"] = "neighbours"
    node: str
    netns: str
    entries: list[NeighbourEntry]


class LinkEntry(Message):
    """One link (interface). ``state`` is the operational state as ``ip link`` shows it
    (UP, DOWN, LOWERLAYERDOWN, UNKNOWN...); ``up`` says whether it is set up (``ip link set
    ... up``); ``addresses`` as ``ip address`` shows them (``10.0.0.1/24``)."""

    name: str
    mac: str | None
    state: str
    up: bool
    mtu: int | None
    master: str | None = None
    kind: str | None = None
    addresses: list[str] = []


class LinksEvent(Message):
    """Every link of one node's namespace, with its addresses: on connect and on every
    change of a link or an address."""

    type: Literal["links"] = "links"
    node: str
    netns: str
    links: list[LinkEntry]


class RouteEntry(Message):
    """One route of the main table; ``to`` is ``default`` or a prefix."""

    to: str
    via: str | None
    dev: str | None
    family: str
    protocol: str
    scope: str
    type: str
    source: str | None = None
    metric: int | None = None


class RoutesEvent(Message):
    """The main routing table of one node's namespace: on connect and on every change."""

    type: Literal["routes"] = "routes"
    node: str
    netns: str
    routes: list[RouteEntry]


class InterfaceCounters(Message):
    """An interface's traffic since it was created."""

    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int


class CountersEvent(Message):
    """The counters of one node's interfaces: all of them on connect (``complete``), then
    about once a second, while a page of the design is open, those that changed
    (``complete`` false; all again when the node's interfaces changed)."""

    type: Literal["counters"] = "counters"
    node: str
    netns: str
    interfaces: dict[str, InterfaceCounters]
    complete: bool = True


class TablesEvent(Message):
    """Node tables published together: those a lab's monitors published within a moment of
    each other (as a big lab's monitors start, or a page connects to it), at most
    :data:`MAX_TABLES_PER_MESSAGE`, in the order they were published. A table published
    alone is sent as its own message."""

    type: Literal["tables"] = "tables"
    tables: list[
        Annotated[
            LinksEvent | RoutesEvent | NeighboursEvent | CountersEvent,
            Field(discriminator="type"),
        ]
    ]


class ErrorEvent(Message):
    """A request was refused or failed; nothing changed. ``action`` names the request when
    it could be read, ``node`` the node it was about (a console line, a capture, a ping)."""

    type: Literal["error"] = "error"
    message: str
    action: str | None = None
    node: str | None = None


class PlannedStep(Message):
    description: str
    shell: list[str]


class PlanEvent(Message):
    """The answer to ``{"action": "apply", "dry_run": true}``, to the asking page only: the
    steps that would change the running lab to saved revision ``revision`` (none: nothing
    the kernel holds changes), and what of the design they make again, and why."""

    type: Literal["plan"] = "plan"
    revision: int
    steps: list[PlannedStep]
    recreated: list[str] = []


Event = Annotated[
    DeploymentEvent
    | StepsEvent
    | PlanEvent
    | PingReplyEvent
    | PingDoneEvent
    | PingAllCellsEvent
    | PingAllProgressEvent
    | PingAllDoneEvent
    | ProbeEvent
    | CaptureStartedEvent
    | PacketEvent
    | CaptureDoneEvent
    | ConsoleOutputEvent
    | ConsoleDoneEvent
    | NeighboursEvent
    | LinksEvent
    | RoutesEvent
    | CountersEvent
    | TablesEvent
    | ErrorEvent,
    Field(discriminator="type"),
]
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


# 8<----------------------------------------------------------------------------------------
# Builders from the database's records.


def deployment_event(deployment: Any | None) -> DeploymentEvent:
    """Return the ``deployment`` event of an ``editor.models.Deployment`` (None: never deployed).

    Reads its revisions' numbers: call it where the database may be read (not in a loop)."""
    if deployment is None:
        return DeploymentEvent(deployment=None, tag=None, state="not deployed")
    return DeploymentEvent(
        deployment=deployment.pk,
        tag=deployment.tag,
        state=deployment.state,
        error=deployment.error,
        namespaces=dict(deployment.namespaces),
        updated=deployment.updated.isoformat(timespec="microseconds"),
        destroyable=deployments.destroyable(deployment),
        revision=_revision_number(deployment, "revision"),
        applying_revision=_revision_number(deployment, "applying_revision"),
    )


def _revision_number(deployment: Any, field: str) -> int | None:
    """The number of ``deployment``'s revision ``field``, read alone when the revision is not
    loaded yet: a revision row holds its whole document and picture."""
    revision_id = getattr(deployment, f"{field}_id")
    if revision_id is None:
        return None
    if getattr(Deployment, field).is_cached(deployment):  # its descriptor
        return int(getattr(deployment, field).number)
    return int(Revision.objects.values_list("number", flat=True).get(pk=revision_id))


def step_event(step: Any) -> StepEvent:
    """Return the ``step`` event of an ``editor.models.DeploymentStep``."""
    ended = step.outcome != "started"
    return StepEvent(
        deployment=step.deployment_id,
        action=step.action,
        index=step.index,
        total=step.total,
        description=step.description,
        shell=step.shell,
        outcome=step.outcome,
        duration_ms=step.duration_ms if ended else None,
        error=(step.error or None) if ended else None,
    )


# A deploy of 1000 namespaces records 4000 steps: in messages of at most this many (about
# 200 KB), under the 1 MiB a websocket client library takes by default.
MAX_STEPS_PER_MESSAGE = 500


def steps_events(steps: Sequence[Any]) -> list[StepsEvent]:
    """Return the ``steps`` events of ``editor.models.DeploymentStep`` rows of one deployment,
    in their order."""
    return [
        StepsEvent(
            deployment=steps[start].deployment_id,
            steps=[step_event(step) for step in steps[start : start + MAX_STEPS_PER_MESSAGE]],
        )
        for start in range(0, len(steps), MAX_STEPS_PER_MESSAGE)
    ]


def neighbours_event(node: str, netns: str, entries: Any) -> NeighboursEvent:
    """Return the ``neighbours`` event of ``netlab.kernel.observe.Neighbour`` entries."""
    return NeighboursEvent(
        node=node,
        netns=netns,
        entries=[
            NeighbourEntry(
                address=entry.address, mac=entry.mac, interface=entry.interface, state=entry.state
            )
            for entry in entries
        ],
    )


def links_event(node: str, netns: str, links: Any) -> LinksEvent:
    """Return the ``links`` event of ``netlab.kernel.observe.Link`` entries."""
    return LinksEvent(
        node=node,
        netns=netns,
        links=[
            LinkEntry(
                name=link.name,
                mac=link.mac,
                state=link.operstate,
                up=link.state == "up",
                mtu=link.mtu,
                master=link.master,
                kind=link.kind,
                addresses=list(link.addresses),
            )
            for link in links
        ],
    )


def routes_event(node: str, netns: str, routes: Any) -> RoutesEvent:
    """Return the ``routes`` event of ``netlab.kernel.observe.Route`` entries."""
    return RoutesEvent(
        node=node, netns=netns, routes=[RouteEntry(**route.as_dict()) for route in routes]
    )


def counters_event(
    node: str,
    netns: str,
    counters: dict[str, dict[str, int]],
    before: dict[str, dict[str, int]] | None = None,
) -> CountersEvent:
    """Return the ``counters`` event of ``netlab.kernel.observe.counters``' answer: with the
    counters last published (``before``) of the same interfaces, only those that changed
    (a hub of a thousand ports sends a few lines a second, not all of them)."""
    complete = before is None or before.keys() != counters.keys()
    changed = {
        name: values
        for name, values in counters.items()
        if complete or before is None or before[name] != values
    }
    return CountersEvent(
        node=node,
        netns=netns,
        interfaces={name: InterfaceCounters(**values) for name, values in changed.items()},
        complete=complete,
    )
