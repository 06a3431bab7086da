"""Command scripts in (netlab.core.interop.script): lines of a tutorial or a shell script
replayed into a design; every line not translated reported with its number; what the
tutorial left out completed only where its own lines say so, and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netlab.core import interop
from netlab.core.document import Document
from netlab.core.interop import NothingTranslated, script
from netlab.core.validation import load, validate

# The seed walkthrough's commands, in its order and with its slips (blue never added, no
# prefixes, veth-blue never moved into blue, veth-blue-br never joined to the bridge), and
# commands written inside prose as the tutorial writes them.
SEED = """\
2. Create Network NS
ip netns add red
ip netns
ip link
ip netns exec red ip link ## look inside
ip -n red link
arp ## the host's own table
ip nets exec red arp
ip link add veth-red type veth peer name veth-blue
ip link set veth-red netns red
ip link set veth-blue netns blue
ip -n red addr add 192.168.15.1 dev veth-red # dev is the device
ip -n blue addr add 192.168.15.2 dev veth-blue
ip -n red link set veth-red up
ip -n blue link set veth-blue up
Once that is done, ip netns exec red ping 192.168.15.2
ip link add v-net-0 type bridge
ip link set dev v-net-0 up
ip -n red link del veth-red
ip link add veth-red type veth peer name veth-red-br
ip link add veth-blue type veth peer name veth-blue-br
ip link set veth-red netns red
ip link set veth-red-br master v-net-0
ip -n red addr add 192.168.15.1 dev veth-red
ip -n blue addr add 192.168.15.2 dev veth-blue
ip -n red link set veth-red up
ip -n blue link set veth-blue up
给网桥一个地址 ip addr add 192.168.15.5/24 dev v-net-0
,此时host才可以ping通ns
To reach the LAN: ip netns exec blue ip route add 192.168.1.0/24 via 192.168.15.5
iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE
Then ip netns exec blue ip route add default via 192.168.15.5
iptables -t nat -A PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT
"""
SEED_FILE = Path(__file__).resolve().parents[3] / "shared/seed/namespace-networking-tutorial.zh.txt"


def replayed(text: str, filename: str = "lab.sh") -> interop.Translation:
    return script.read(text, filename)


def notes_of(translation: interop.Translation) -> list[str]:
    return [str(note) for note in translation.notes]


def the_seeds_network(data: dict[str, Any]) -> None:
    design = load(data)
    assert {node.id: node.kind for node in design.nodes} == {
        "red": "namespace",
        "host": "host",
        "blue": "namespace",
        "v-net-0": "bridge",
    }
    ends = sorted(
        sorted((end.node, end.interface, end.addresses) for end in link.endpoints)
        for link in design.links
    )
    assert ends == [
        [("blue", "veth-blue", ("192.168.15.2/24",)), ("v-net-0", "veth-blue-br", ())],
        [("red", "veth-red", ("192.168.15.1/24",)), ("v-net-0", "veth-red-br", ())],
    ]
    nodes = {node.id: node for node in design.nodes}
    assert nodes["v-net-0"].addresses == ("192.168.15.5/24",)
    assert [(route.to, route.via) for route in nodes["blue"].routes] == [
        ("192.168.1.0/24", "192.168.15.5"),
        ("default", "192.168.15.5"),
    ]
    assert [nat.source for nat in nodes["host"].nat] == ["192.168.15.0/24"]
    forward = nodes["host"].port_forwards[0]
    assert (forward.protocol, forward.port, forward.to) == ("tcp", 80, "192.168.15.2:80")
    assert validate(design) == []


def test_the_seeds_commands_import_as_the_tutorials_final_network() -> None:
    translation = replayed(SEED, "namespace-networking-tutorial.zh.txt")
    assert translation.data["name"] == "namespace-networking-tutorial"
    the_seeds_network(translation.data)
    notes = notes_of(translation)
    # every line not translated, by number; diagnostics included
    left_out = {note.line for note in translation.notes if not note.imported}
    assert left_out == {3, 4, 5, 6, 7, 8, 16}
    assert "line 8: 'ip nets exec red arp' not imported (ip nets is not understood here)" in notes
    assert "line 7: 'arp' not imported (a diagnostic" in " ".join(notes)
    # and every completion, said
    assert any(
        note.startswith("line 11: 'ip link set veth-blue netns blue': namespace blue")
        for note in notes
    )
    assert any(note.startswith("line 25: ") and "moved into blue" in note for note in notes)
    assert any(note.startswith("line 21: ") and "joined to v-net-0" in note for note in notes)
    prefixes = [note for note in notes if "has no prefix: /24" in note]
    assert [note.split(":")[0] for note in prefixes] == ["line 24", "line 25"]


@pytest.mark.skipif(not SEED_FILE.exists(), reason=f"the seed is not at {SEED_FILE}")
def test_the_seed_file_itself_imports_as_the_same_network() -> None:
    translation = interop.read(SEED_FILE.read_bytes(), SEED_FILE.name)
    assert translation.source == "script"
    the_seeds_network(translation.data)


LINES = [
    # the forms a script writes the same thing in
    (
        "ip netns add a\nip netns add b\nip link add x type veth peer name y\n"
        "ip link set x netns a\nip link set y netns b\nip -n a a a 10.0.0.1/24 dev x\n"
        "ip -n b addr add dev y 10.0.0.2/24",
        "a-b",
    ),
    (
        "ip netns add a\nip netns add b\n"
        "ip link add x netns a type veth peer name y netns b\n"
        "ip netns exec a ip address add local 10.0.0.1/24 dev x\n"
        "sudo ip netns exec b ip a a 10.0.0.2/24 dev y",
        "a-b",
    ),
    (
        "#!/bin/sh\nset -e\nip netns add a && ip netns add b\n"
        "ip link add x type veth \\\n  peer name y\nip link set x netns a; ip link set y netns b\n"
        "ip -n a addr add 10.0.0.1/24 dev x\nip -n b addr add 10.0.0.2/24 dev y",
        "a-b",
    ),
    (
        "ip netns add a\nip netns add b\nip link add x type veth peer name y\n"
        "ip link set x netns a\nip link set y netns b\n"
        "sh -c 'ip -n a addr add 10.0.0.1/24 dev x && ip -n b addr add 10.0.0.2/24 dev y'",
        "a-b",
    ),
]


def a_b(data: dict[str, Any]) -> Any:
    design = load(data)
    return [
        sorted((end.node, end.interface, end.addresses) for end in link.endpoints)
        for link in design.links
    ]


@pytest.mark.parametrize(
    ("text", "_"), LINES, ids=["abbreviated", "netns-and-exec", "shell", "sh-c"]
)
def test_every_form_of_a_line_makes_the_same_link(text: str, _: str) -> None:
    assert a_b(replayed(text).data) == [
        [("a", "x", ("10.0.0.1/24",)), ("b", "y", ("10.0.0.2/24",))]
    ]


REPORTED = [
    ("apk add iperf3", "line 1: 'apk add iperf3' not imported (installs a package)"),
    ("ip netns add $NS", "uses a shell variable"),
    ("ip netns add a | tee x", "uses the shell ('|')"),
    ("ip link add v type vxlan id 4", "only veth, bridge and vlan links"),
    ("for n in a b; do ip netns add $n; done", "shell control flow"),
    ("curl http://192.0.2.1", "'curl' is not a command netlab translates"),
    ("ip netns add 'a b'", "node id 'a b' must be"),
    ("ip netns add 'x", "cannot be read"),
]


@pytest.mark.parametrize(("line", "said"), REPORTED, ids=[row[0] for row in REPORTED])
def test_what_is_not_translated_is_reported_with_its_line(line: str, said: str) -> None:
    with pytest.raises(NothingTranslated) as refused:
        interop.read(line, "lab.sh")
    assert said in " ".join(str(note) for note in refused.value.notes)
    assert "nothing in lab.sh could be imported" in str(refused.value)


def test_forwarding_written_to_proc_is_forwarding() -> None:
    data = replayed(
        "ip netns add r\nip netns exec r sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'\n"
        "echo 1 > /proc/sys/net/ipv4/ip_forward"
    ).data
    assert [node.get("forwarding") for node in data["nodes"]] == [True, True]
    refused = replayed("ip netns add r\necho x > /etc/passwd")
    assert "line 2: 'echo x > /etc/passwd' not imported (writes a file)" in notes_of(refused)


def test_an_address_without_a_prefix_and_no_segment_to_learn_from_stays_a_host_address() -> None:
    translation = replayed(
        "ip netns add a\nip link add x type veth peer name y\n"
        "ip link set x netns a\nip -n a addr add 10.0.0.1 dev x"
    )
    assert translation.data["links"][0]["endpoints"][0]["addresses"] == ["10.0.0.1/32"]
    assert "10.0.0.1 has no prefix: /32, as ip takes it" in " ".join(notes_of(translation))


def test_a_deleted_namespace_takes_its_links_and_bridges() -> None:
    data = replayed(
        "ip netns add a\nip netns add b\nip -n a link add br type bridge\n"
        "ip link add x netns a type veth peer name y netns b\nip netns del a"
    ).data
    assert [node["id"] for node in data["nodes"]] == ["b", "host"]
    assert data["links"] == []


def test_too_long_an_interface_name_is_shortened_and_said() -> None:
    translation = replayed(
        "ip netns add a\nip link add a-very-long-interface type veth peer "
        "name y\nip link set y netns a"
    )
    names = [end["interface"] for end in translation.data["links"][0]["endpoints"]]
    assert names == ["a-very-long-int", "y"]
    assert validate(load(translation.data)) == []
    assert "named a-very-long-int" in " ".join(notes_of(translation))


def test_commands_pasted_onto_a_design_use_its_nodes() -> None:
    onto = Document.model_validate(
        {
            "name": "mine",
            "title": "Mine",
            "nodes": [{"id": "gw", "kind": "host"}, {"id": "red", "kind": "namespace"}],
        }
    )
    translation = script.read(
        "ip link add v type veth peer name w\nip link set w netns red\n"
        "ip a a 10.1.0.1/24 dev v\nip -n red a a 10.1.0.2/24 dev w",
        "pasted.sh",
        onto,
    )
    design = load(translation.data)
    assert (design.name, design.title) == ("mine", "Mine")
    assert [node.id for node in design.nodes] == ["gw", "red"]
    assert a_b(translation.data) == [
        [("gw", "v", ("10.1.0.1/24",)), ("red", "w", ("10.1.0.2/24",))]
    ]


SNIFFED = [
    ("ip netns add a\n", "lab", "script"),
    ("ip netns add a\n", "lab.sh", "script"),
    ("- ip netns add a\n", "lab.txt", "script"),
    ("name: lab\ntopology:\n  nodes: {}\n", "lab.yml", "containerlab"),
    ("name: lab\ntopology:\n  nodes: {}\n", "anything", "containerlab"),
    ('{"format": "netlab/v1", "name": "lab"}', "lab", "netlab"),
    ("format: netlab/v1\nname: lab\n", "lab.txt", "netlab"),
    ("{broken", "lab.json", "netlab"),
    ("key: [unclosed", "lab.yaml", "netlab"),
]


@pytest.mark.parametrize(("text", "filename", "source"), SNIFFED)
def test_the_format_is_told_by_content(text: str, filename: str, source: str) -> None:
    assert interop.sniff(text, filename) == source


def test_a_link_set_down_or_resized_keeps_it_in_the_design() -> None:
    data = replayed(
        "ip netns add a\nip netns add b\nip link add x netns a type veth peer name y netns b\n"
        "ip -n a link set x mtu 9000\nip -n b link set y down"
    ).data
    link = load(data).links[0]
    assert (link.mtu, link.up) == (9000, False)
