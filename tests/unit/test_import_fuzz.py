"""Random files through the importer: a topology's or a script's text is anyone's, so whatever
comes in, ``interop.read`` answers a translation or :class:`InvalidDesign` (a 4xx with its
reasons), never another exception; a translation is a well-shaped document (a draft at worst)
whose notes are text; and the containerlab export of what validates reads back.

Bounded and reproducible: derandomized, a fixed example count, no deadline.
"""

from __future__ import annotations

from typing import Any

import yaml
from hostile import HOSTILE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.core import interop
from netlab.core.interop import containerlab
from netlab.core.validation import InvalidDesign, parse, validate

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
WORDS = st.sampled_from(
    [
        "linux",
        "bridge",
        "host",
        "nokia_srlinux",
        "eth1",
        "a",
        "b",
        "a:eth1",
        "b:eth1",
        "host:h1",
        "br|a",
        "veth",
        "dummy",
        "ip addr add 10.0.0.1/24 dev eth1",
        "10.0.0.1/24",
        "ash -c 'ip link set eth1 up && ip r a default via 10.0.0.2'",
        *HOSTILE.values(),
    ]
)
SCALARS = st.one_of(WORDS, st.integers(-5, 70000), st.booleans(), st.none(), st.text(max_size=12))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(WORDS | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)
NODE = st.dictionaries(
    st.sampled_from(["kind", "group", "exec", "image", "labels", "network-mode", "binds"]),
    VALUES,
    max_size=4,
)
LINK = st.one_of(
    st.fixed_dictionaries(
        {"endpoints": st.lists(WORDS, max_size=3)},
        optional={"mtu": VALUES, "ipv4": VALUES, "vars": VALUES},
    ),
    st.fixed_dictionaries(
        {"type": WORDS},
        optional={"endpoints": VALUES, "endpoint": VALUES, "host-interface": VALUES},
    ),
    VALUES,
)
TOPOLOGY = st.fixed_dictionaries(
    {
        "name": WORDS,
        "topology": st.fixed_dictionaries(
            {"nodes": st.dictionaries(WORDS, NODE, max_size=5)},
            optional={
                "links": st.lists(LINK, max_size=5),
                "groups": VALUES,
                "kinds": VALUES,
                "defaults": VALUES,
            },
        ),
    },
    optional={"mgmt": VALUES},
)
LINES = st.lists(
    st.one_of(
        WORDS,
        st.sampled_from(
            [
                "ip netns add red",
                "ip netns add blue",
                "ip link add v type veth peer name w",
                "ip link set v netns red",
                "ip link set w netns blue",
                "ip -n red a a 10.1.0.1 dev v",
                "ip -n blue addr add 10.1.0.2/24 dev w",
                "ip netns exec red ip route add default via x",
                "ip link add br0 type bridge",
                "ip link set w master br0",
                "ip netns del red",
                "sysctl -w net.ipv4.ip_forward=1",
                "iptables -t nat -A POSTROUTING -s 10.1.0.0/24 -j MASQUERADE",
                "ip link set v mtu 70000",
                "ip link set v down",
                "echo 1 > /x",
            ]
        ),
        st.text(max_size=30),
    ),
    max_size=12,
)


def check(translation: interop.Translation) -> None:
    document = parse(translation.data)  # a draft at worst: the shape always holds
    for note in translation.notes:
        assert str(note).encode()
    if not validate(document):
        back = interop.read(containerlab.write(document), "back.clab.yml")
        assert parse(back.data).nodes


def read(text: str, filename: str) -> None:
    try:
        translation = interop.read(text, filename)
    except InvalidDesign as error:
        problems = error.problems
    else:
        check(translation)
        return
    assert problems


@FUZZ
@given(TOPOLOGY)
def test_any_topology_translates_or_is_refused(data: dict[str, Any]) -> None:
    read(yaml.safe_dump(data, allow_unicode=True), "lab.clab.yml")


@FUZZ
@given(LINES)
def test_any_script_translates_or_is_refused(lines: list[str]) -> None:
    read("\n".join(lines), "lab.sh")
