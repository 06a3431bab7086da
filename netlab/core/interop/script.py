"""Command scripts in: a tutorial's (or a shell script's) ``ip`` commands replayed into a design.

Each line is read with the console's parser (:mod:`netlab.core.commands`), in the namespace it
names (``ip -n NS ...``, ``ip netns exec NS ...``; the host otherwise), and its edit made on
the design being built. ``ip netns add|del`` make and remove namespace nodes. Diagnostics
(``ip link``, ``ping``) change nothing; they are reported with everything else not
translated, each with its line number.

A tutorial is prose with commands in it: a line that starts like a command is one (``arp``
included, reported); in any other line, an ``ip``, ``iptables`` or ``sysctl`` command
written after the prose is read up to where the prose resumes.

Tutorials leave out what their authors did without thinking; where the script's own lines
say what was meant, the replay does it and says so (a note marked imported):

- an address written without a prefix takes the prefix of an address written with one on the
  same segment (``ip`` alone would make it a /32, and the tutorial's pings would fail);
- a namespace used before any ``ip netns add`` is made where first used;
- ``ip -n NS addr add ... dev DEV`` for a DEV still in the host moves it into NS first;
- a veth end left in the host with no address, never named again, joins the host's one
  bridge when the other veth pairs of the script were joined to it the same way.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from netlab.core import codec, commands, names
from netlab.core.commands import Diagnostic, Edit, Refused
from netlab.core.document import Document
from netlab.core.interop import Note, Source, Translation
from netlab.core.validation import InvalidDesign, Problem

SHELLS = {"sh", "bash", "ash", "dash", "zsh"}
SEPARATORS = {"&&", ";", "||", "&"}
# How the script's other programs are reported: what they would have done.
PROGRAMS = {
    **dict.fromkeys(("apk", "apt", "apt-get", "yum", "dnf", "pip", "pip3"), "installs a package"),
    **dict.fromkeys(("echo", "printf", "cat"), "prints text"),
    **dict.fromkeys(("cd", "export", "set", "source", ".", "unset", "alias"), "a shell setting"),
    **dict.fromkeys(
        ("for", "while", "if", "then", "else", "fi", "do", "done", "case", "esac"),
        "shell control flow: each line is replayed once, as written",
    ),
    "sleep": "waits",
    "arp": "a diagnostic: it changes nothing; the console's ip neigh shows the same",
}
TRANSLATED = ("ip", "iptables", "sysctl", "ping", "tracepath", "ss", "bridge", "nft")
KNOWN = {*TRANSLATED, *PROGRAMS, "sudo"}
COMMAND_LINE = re.compile(r"^(?:sudo\s+)?([a-z][a-z0-9_.-]*)(?:\s|$)")
EMBEDDED = re.compile(r"(?<![A-Za-z0-9_./-])(?:ip|iptables|sysctl)\s+(?=-?[a-z])")
PROSE = re.compile(r"[^\x00-\x7f]")
FORWARDING_FILES = {"/proc/sys/net/ipv4/ip_forward": "net.ipv4.ip_forward"}
HOST = "host"


def read(text: str | bytes, filename: str, onto: Document | None = None) -> Translation:
    """Replay the commands of ``text`` (the file ``filename``) into a new design, or onto
    the design ``onto`` (commands pasted into the editor: they may name its nodes)."""
    replay = Replay()
    if onto is not None:
        data = onto.to_data()
        replay.data = {"nodes": data.get("nodes", []), "links": data.get("links", [])}
        replay.host_id = next((node.id for node in onto.nodes if node.kind == "host"), HOST)
    for number, line in lines(_decoded(text)):
        for statement in statements(line):
            replay.run(statement, replay.host_id, number)
    translation = replay.finish(design_name(filename), filename)
    if onto is None:
        return translation
    data = {**onto.to_data(), **translation.data, "name": onto.name, "title": onto.title}
    return Translation(translation.source, data, translation.notes, translation.translated)


def _decoded(text: str | bytes) -> str:
    if len(text) > codec.MAX_DOCUMENT_BYTES:
        raise InvalidDesign(
            [Problem("", f"the script is larger than {codec.MAX_DOCUMENT_BYTES} bytes")]
        )
    if isinstance(text, bytes):
        try:
            return text.decode()
        except UnicodeDecodeError:
            raise InvalidDesign([Problem("", "the script is not UTF-8 text")]) from None
    return text


def lines(text: str) -> Iterator[tuple[int, str]]:
    """The command lines of ``text`` with their line numbers: continuations joined, comments
    and blank lines dropped, a command found in prose cut out of it."""
    pending, first = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if pending:
            raw = pending + raw
            number = first
        if raw.rstrip().endswith("\\") and not raw.lstrip().startswith("#"):
            pending, first = raw.rstrip()[:-1] + " ", number
            continue
        pending = ""
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        start = COMMAND_LINE.match(line)
        if not start or (PROSE.search(line) and start.group(1) not in KNOWN):
            found = EMBEDDED.search(line)
            if found is None:
                continue  # prose
            line = line[found.start() :]
        prose = PROSE.search(line)
        if prose:
            line = line[: prose.start()]
        line = _without_comment(line).strip()
        if line:
            yield number, line


def _without_comment(line: str) -> str:
    """``line`` up to a ``#`` that starts a word outside quotes (a shell comment)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def statements(line: str) -> list[str]:
    """The commands of one line: ``sh -c '...'`` unwrapped, split at ``&&`` and ``;``.

    Text that does not split (an open quote) is one statement, refused when read."""
    try:
        words = _shell_words(line)
        if len(words) == 3 and words[0] in SHELLS and words[1] == "-c":
            return [part for inner in _lines_of(words[2]) for part in statements(inner)]
    except ValueError:
        return [line]
    parts: list[list[str]] = [[]]
    for word in words:
        if word in SEPARATORS:
            parts.append([])
        else:
            parts[-1].append(word)
    if len(parts) == 1:
        return [line.strip()]  # as written, for the report
    return [shlex.join(part) for part in parts if part]


def _lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _shell_words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def design_name(filename: str) -> str:
    """A design name made of ``filename``'s stem (or a topology's name)."""
    stem = PurePosixPath(filename.replace("\\", "/")).name.split(".")[0]
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")[:64]
    return slug or "imported"


@dataclass
class Replay:
    """Design data built by replaying commands, and the notes on what was not translated.

    ``infer``: complete what a tutorial left out (the module's list); off for a topology
    whose exec lines only add to links it states itself.
    """

    infer: bool = True
    host_id: str = HOST  # the host node's id: the namespace a line without -n runs in
    who: str | None = None  # the node whose lines are read, named in the notes
    data: dict[str, Any] = field(default_factory=lambda: {"nodes": [], "links": []})
    notes: list[Note] = field(default_factory=list)
    translated: int = 0
    # (node, interface, address as /32) of each address written without a prefix.
    bare: list[tuple[str, str, str, int | None, str]] = field(default_factory=list)
    named: set[tuple[str, str]] = field(default_factory=set)  # interfaces named after creation
    made: dict[str, tuple[int | None, str]] = field(default_factory=dict)  # veth end: where made

    def skip(self, number: int | None, text: str, reason: str) -> None:
        self.notes.append(Note(number, text, reason, self.who))

    def adjust(self, number: int | None, text: str, reason: str) -> None:
        self.notes.append(Note(number, text, reason, self.who, imported=True))

    def run(self, text: str, node: str, number: int | None, who: str | None = None) -> None:
        """Replay the one command ``text`` (line ``number``) in ``node``'s namespace."""
        self.who = who
        try:
            words = shlex.split(text)
        except ValueError as error:
            self.skip(number, text, f"cannot be read: {error}")
            return
        while words[:1] == ["sudo"]:
            words = words[1:]
        if not words:
            return
        self.command(words, node, number, text)

    def command(self, words: list[str], node: str, number: int | None, text: str) -> None:
        program = words[0]
        if program in SHELLS and len(words) == 3 and words[1] == "-c":  # ip netns exec NS sh -c
            for statement in statements(words[2]):
                self.command(shlex.split(statement), node, number, text)
            return
        operators = [word for word in words if word in ("|", "<", ">", ">>", "(", ")")]
        if operators:
            if words[:1] == ["echo"] and len(words) == 4 and words[2] == ">":
                self.forwarding_file(words, node, number, text)
            else:
                self.skip(number, text, f"uses the shell ({operators[0]!r})")
            return
        if any("$" in word or "`" in word for word in words):
            self.skip(number, text, "uses a shell variable or substitution")
            return
        if program == "ip":
            if len(words) >= 3 and words[1] in ("-n", "-netns", "--netns"):
                namespace = self.namespace(words[2], number, text)
                if namespace is None:
                    return
                node, words = namespace, ["ip", *words[3:]]
            if words[1:2] == ["netns"]:
                self.netns(words[2:], number, text)
                return
        if program in PROGRAMS:
            self.skip(number, text, PROGRAMS[program])
            return
        if program not in TRANSLATED:
            self.skip(number, text, f"{program!r} is not a command netlab translates")
            return
        try:
            parsed = commands.parse(shlex.join(words))
        except Refused as refusal:
            self.skip(number, text, str(refusal))
            return
        if isinstance(parsed, Diagnostic):
            self.skip(number, text, "a diagnostic: it changes nothing")
            return
        self.edit(parsed, node, number, text)

    def netns(self, words: list[str], number: int | None, text: str) -> None:
        verb = words[0] if words else "list"
        if verb in ("list", "show", "ls"):
            self.skip(number, text, "a diagnostic: it changes nothing")
        elif verb == "add" and len(words) == 2:
            if self.node(words[1]) is not None:
                self.skip(number, text, f"{words[1]} is there already")
            elif self.namespace(words[1], number, text, make=False) is not None:
                self.add_node({"id": words[1], "kind": "namespace"})
                self.translated += 1
        elif verb in ("del", "delete") and len(words) == 2:
            if self.node(words[1]) is None:
                self.skip(number, text, f"there is no namespace {words[1]}")
            else:
                self.delete_node(words[1])
                self.translated += 1
        elif verb == "exec" and len(words) >= 3:
            namespace = self.namespace(words[1], number, text)
            if namespace is not None:
                self.command(words[2:], namespace, number, text)
        else:
            self.skip(number, text, f"ip netns {verb} is not translated")

    def namespace(self, name: str, number: int | None, text: str, make: bool = True) -> str | None:
        """The node id of namespace ``name``, made if ``make`` and missing; None (reported)
        when ``name`` cannot be a node id."""
        problem = names.node_id_problem(name)
        if problem or name == self.host_id:
            self.skip(number, text, problem or f"{name!r} names the host here")
            return None
        node = self.node(name)
        if node is None and make:
            self.add_node({"id": name, "kind": "namespace"})
            self.adjust(number, text, f"namespace {name} was not added before: made here")
        elif node is not None and node["kind"] == "bridge":
            self.skip(number, text, f"{name} is a bridge, not a namespace")
            return None
        return name

    def node(self, node_id: str) -> dict[str, Any] | None:
        nodes: list[dict[str, Any]] = self.data["nodes"]
        return next((item for item in nodes if item["id"] == node_id), None)

    def add_node(self, node: dict[str, Any]) -> None:
        self.data["nodes"].append(node)

    def host(self) -> None:
        """Make the host node, if it is not there yet."""
        if self.node(self.host_id) is None:
            self.add_node({"id": self.host_id, "kind": "host"})

    def delete_node(self, node_id: str) -> None:
        gone = {node_id} | {item["id"] for item in self.data["nodes"] if item.get("in") == node_id}
        self.data["nodes"] = [item for item in self.data["nodes"] if item["id"] not in gone]
        self.data["links"] = [
            link
            for link in self.data["links"]
            if not any(end["node"] in gone for end in link["endpoints"])
        ]

    def forwarding_file(self, words: list[str], node: str, number: int | None, text: str) -> None:
        key = FORWARDING_FILES.get(words[3])
        if key is None or words[1] not in ("0", "1"):
            self.skip(number, text, "writes a file")
            return
        self.edit(commands.Edit("set-forwarding", {"value": words[1] == "1"}), node, number, text)

    def edit(self, edit: Edit, node: str, number: int | None, text: str) -> None:
        if node == self.host_id:
            self.host()
        for key in ("node", "netns", "peer_netns"):
            moved = edit.kind in ("set-netns", "add-veth") and key in edit.fields
            if moved and self.namespace(edit.fields[key], number, text) is None:
                return
        dev = edit.fields.get("dev")
        if self.infer and dev and node != self.host_id and not self.has_interface(node, dev):
            self.move_from_host(node, dev, number, text)
        try:
            self.data = commands.apply_edit(self.data, node, edit)
        except Refused as refusal:
            self.skip(number, text, str(refusal))
            return
        self.translated += 1
        if dev:
            self.named.add((node, dev))
        if edit.kind == "add-veth":
            for key in ("name", "peer"):
                self.made[edit.fields[key]] = (number, text)
        if edit.kind == "add-address" and "/" not in _written(text, edit.fields["address"]):
            self.bare.append((node, edit.fields["dev"], edit.fields["address"], number, text))

    def ends(self) -> Iterator[dict[str, Any]]:
        for link in self.data["links"]:
            yield from link["endpoints"]

    def holder(self, node_id: str) -> str:
        node = self.node(node_id)
        if node is not None and node["kind"] == "bridge":
            return str(node.get("in") or self.host_id)
        return node_id

    def has_interface(self, node: str, dev: str) -> bool:
        held = any(
            self.holder(end["node"]) == node and end["interface"] == dev for end in self.ends()
        )
        bridge = self.node(dev)
        return held or (bridge is not None and self.holder(dev) == node)

    def move_from_host(self, node: str, dev: str, number: int | None, text: str) -> None:
        """Move the host's free end ``dev`` into ``node``, which a line names it in."""
        found = [
            end for end in self.ends() if end["node"] == self.host_id and end["interface"] == dev
        ]
        if len(found) == 1 and self.node(node) is not None:
            found[0]["node"] = node
            self.adjust(number, text, f"{dev} was still in the host: moved into {node} first")

    def finish(self, name: str, filename: str, source: Source = "script") -> Translation:
        """The design data, named ``name``; the notes in the order of their lines."""
        self.who = None
        if self.infer:
            self.join_loose_ends()
        self.take_prefixes()
        self.host()  # every design has one: the machine's own namespace, or its stand-in
        self.short_names()
        data = {
            "format": "netlab/v1",
            "name": name,
            "title": f"Imported from {PurePosixPath(filename).name}",
            **self.data,
        }
        notes = sorted(self.notes, key=lambda note: (note.line is None, note.line or 0))
        return Translation(source, data, tuple(notes), self.translated)

    def short_names(self) -> None:
        """Rename the interfaces the kernel could not name (too long, odd characters)."""
        for link in self.data["links"]:
            for end in link["endpoints"]:
                name = end["interface"]
                if names.interface_name_problem(name) is None:
                    continue
                taken = {
                    other["interface"]
                    for other in self.ends()
                    if self.holder(other["node"]) == self.holder(end["node"])
                }
                stem = re.sub(r"[^A-Za-z0-9_.-]", "-", name).strip("-.")[:15] or "if"
                new, number = stem, 1
                while new in taken or names.interface_name_problem(new):
                    number += 1
                    new = f"{stem[: 15 - len(str(number)) - 1]}-{number}"
                end["interface"] = new
                self.notes.append(
                    Note(
                        None,
                        name,
                        f"{names.interface_name_problem(name)}: named {new}",
                        end["node"],
                        imported=True,
                    )
                )

    def join_loose_ends(self) -> None:
        bridges = [
            item["id"]
            for item in self.data["nodes"]
            if item["kind"] == "bridge" and self.holder(item["id"]) == self.host_id
        ]
        if len(bridges) != 1:
            return
        bridge = bridges[0]
        shaped = 0  # links from a namespace to the bridge, as the script made them
        loose = []
        for link in self.data["links"]:
            first, second = link["endpoints"]
            for end, other in ((first, second), (second, first)):
                in_namespace = (self.node(other["node"]) or {}).get("kind") == "namespace"
                if end["node"] == bridge and in_namespace:
                    shaped += 1
                elif (
                    end["node"] == self.host_id
                    and in_namespace
                    and not end.get("addresses")
                    and (self.host_id, end["interface"]) not in self.named
                ):
                    loose.append((end, other))
        if not shaped:
            return
        for end, other in loose:
            end["node"] = bridge
            number, text = self.made.get(end["interface"], (0, end["interface"]))
            self.adjust(
                number,
                text,
                f"{end['interface']} was left in the host, on no bridge, "
                f"its peer in {other['node']}: joined to {bridge} like the script's "
                "other veth pairs",
            )

    def take_prefixes(self) -> None:
        """Give each address written without a prefix the prefix of its segment."""
        segments = _Segments(self.data, self.holder)
        latest = {
            (node, dev, address): (number, text) for node, dev, address, number, text in self.bare
        }
        bare = set(latest)
        for (node, dev, address), (number, text) in latest.items():
            host = ipaddress.ip_interface(address).ip
            prefixes = {
                other.network
                for other in segments.addresses(node, dev)
                if host in other.network
                and other.network.prefixlen < other.max_prefixlen
                and not _is_bare(other, bare)
            }
            if len(prefixes) != 1:
                self.adjust(number, text, f"{host} has no prefix: /32, as ip takes it")
                continue
            network = prefixes.pop()
            segments.replace(node, dev, address, f"{host}/{network.prefixlen}")
            self.adjust(
                number,
                text,
                f"{host} has no prefix: /{network.prefixlen}, the prefix of its "
                f"segment's {network} (ip alone would make it a /32)",
            )


def _is_bare(address: ipaddress.IPv4Interface | ipaddress.IPv6Interface, bare: set[Any]) -> bool:
    return any(str(address) == written for _, _, written in bare)


def _written(text: str, address: str) -> str:
    """The word of ``text`` that wrote ``address`` (normalised by the parser)."""
    host = address.split("/")[0]
    return next((word for word in text.split() if word.split("/")[0] == host), address)


class _Segments:
    """The layer-2 segments of design data under construction: each interface of a node and
    every other interface it reaches through its link and the bridges on the way."""

    def __init__(self, data: dict[str, Any], holder: Any) -> None:
        self.data = data
        self.holder = holder
        self.parent: dict[Any, Any] = {}
        for link in data["links"]:
            first, second = (self.key_of(end) for end in link["endpoints"])
            self.union(first, second)
            for end in link["endpoints"]:
                if self.is_bridge(end["node"]):
                    self.union(self.key_of(end), ("bridge", end["node"]))

    def is_bridge(self, node_id: str) -> bool:
        return any(
            item["id"] == node_id and item["kind"] == "bridge" for item in self.data["nodes"]
        )

    def key_of(self, end: dict[str, Any]) -> tuple[str, str]:
        return (end["node"], end["interface"])

    def find(self, key: Any) -> Any:
        while self.parent.get(key, key) != key:
            key = self.parent[key]
        return key

    def union(self, first: Any, second: Any) -> None:
        self.parent[self.find(first)] = self.find(second)

    def places(self, node: str, dev: str) -> list[list[str]]:
        """The address lists that belong to ``dev`` of ``node`` (its end, or the bridge)."""
        if self.is_bridge(dev) and self.holder(dev) == node:
            bridge = next(item for item in self.data["nodes"] if item["id"] == dev)
            return [bridge.setdefault("addresses", [])]
        return [
            end.setdefault("addresses", [])
            for link in self.data["links"]
            for end in link["endpoints"]
            if self.holder(end["node"]) == node and end["interface"] == dev
        ]

    def addresses(self, node: str, dev: str) -> list[Any]:
        if self.is_bridge(dev) and self.holder(dev) == node:
            root = self.find(("bridge", dev))
        else:
            keys = [
                self.key_of(end)
                for link in self.data["links"]
                for end in link["endpoints"]
                if self.holder(end["node"]) == node and end["interface"] == dev
            ]
            if not keys:
                return []
            root = self.find(keys[0])
        found = []
        for item in self.data["nodes"]:
            if item["kind"] == "bridge" and self.find(("bridge", item["id"])) == root:
                found += item.get("addresses", [])
        for link in self.data["links"]:
            for end in link["endpoints"]:
                if self.find(self.key_of(end)) == root:
                    found += end.get("addresses", [])
        return [ipaddress.ip_interface(text) for text in found]

    def replace(self, node: str, dev: str, old: str, new: str) -> None:
        for addresses in self.places(node, dev):
            addresses[:] = [new if address == old else address for address in addresses]
