"""Generated shell text never runs text from a design (issue 9, defect 1).

The exported script and every step's ``shell``: a design's free text reaches them only as an
escaped comment or a quoted word, scope ids (free text inside an address) are refused by
validation, and steps built without validation still quote every field.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from factories import changed, tutorial_data
from hostile import HOSTILE, LINE_BREAKS, PAYLOAD

from netlab.core.document import Nat, PortForward
from netlab.core.plan import (
    AddAddress,
    AddBridge,
    AddNamespace,
    AddRoute,
    AddVeth,
    ApplyNftables,
    Naming,
    Plan,
    SetLinkUp,
    SetSysctl,
    Step,
    compile_plan,
    render_script,
)
from netlab.core.shell import comment
from netlab.core.text import unstorable_character
from netlab.core.validation import load, problems_of

TAG = "abc123"
T4 = tutorial_data(4)
# Text validation lets through into free-text fields: everything but NUL and lone surrogates.
STORABLE = {name: text for name, text in HOSTILE.items() if unstorable_character(text) is None}


def bash_parses(script: str) -> None:
    """Assert that bash can parse ``script`` (``bash -n`` runs nothing)."""
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    subprocess.run(["bash", "-n"], input=script.encode(), check=True, timeout=30)


def assert_no_line_runs_payload(text: str) -> None:
    """No line, wherever bash or an editor breaks it, starts with the payload."""
    lines = [text]
    for separator in LINE_BREAKS:
        lines = [piece for line in lines for piece in line.split(separator)]
    for line in lines:
        assert not line.lstrip(" \t;&|'\"`$(").startswith(PAYLOAD), repr(line)


@pytest.mark.parametrize("field", ["title", "description"])
@pytest.mark.parametrize("text", STORABLE.values(), ids=STORABLE.keys())
def test_free_text_reaches_the_script_as_one_comment(field: str, text: str) -> None:
    """A hostile title (the script's header) or description: one escaped comment at most."""
    design = load(changed(T4, {field: text}))
    script = render_script(compile_plan(design, Naming(TAG)))
    bash_parses(script)
    assert_no_line_runs_payload(script)
    if field == "title" and text:
        assert f"\n{comment(f'netlab: {text}')}\n" in script


# Every field of a document that holds an address, with a scope id that tries to get out.
SCOPE_ID = "%eth0\nEOF\ntouch pwned"
ADDRESS_FIELDS = [
    pytest.param("links[2].endpoints[0].addresses[0]", f"fe80::1{SCOPE_ID}/64", id="endpoint"),
    pytest.param("nodes[1].addresses[0]", f"fe80::5{SCOPE_ID}/64", id="bridge"),
    pytest.param("nodes[2].routes[0].via", f"fe80::5{SCOPE_ID}", id="route-via"),
    pytest.param("nodes[2].routes[0].to", f"fd00::{SCOPE_ID}/64", id="route-to"),
    pytest.param("nodes[0].nat[0].source", f"fd00::{SCOPE_ID}/64", id="nat-source"),
    pytest.param("nodes[0].port_forwards[0].to", f"fe80::2{SCOPE_ID}", id="forward-to-bare"),
    pytest.param("nodes[0].port_forwards[0].to", "[fe80::2%eth0]:80", id="forward-to-socket"),
    pytest.param("links[2].endpoints[0].addresses[0]", "fe80::1%1/64", id="numeric-scope-id"),
]


@pytest.mark.parametrize(("path", "address"), ADDRESS_FIELDS)
def test_scope_ids_are_refused_in_every_address_field(path: str, address: str) -> None:
    """Python's ipaddress takes any text after '%'; a design takes no scope id at all."""
    problems = problems_of(changed(T4, {path: address}))
    assert [problem.path for problem in problems if "scope id" in problem.message] == [path]


def test_leading_dash_interface_name_is_refused() -> None:
    """A command would read ``-x`` as an option, quoted or not."""
    problems = problems_of(changed(T4, {"links[2].endpoints[1].interface": "-eth0"}))
    assert [(p.path, "may not start with '-'" in p.message) for p in problems] == [
        ("links[2].endpoints[1].interface", True)
    ]


NETNS = "netlab-abc123-1"
MARK = "netlab:abc123"


def hostile_steps(text: str) -> list[Step]:
    """Every kind of step, each text field holding ``text`` (built without validation)."""
    return [
        AddNamespace(node=text, netns=text, mark=text),
        AddBridge(node=text, holder=text, netns=NETNS, name=text, mark=MARK),
        AddVeth(
            node=text,
            netns=NETNS,
            name=text,
            master=text,
            peer_node=text,
            peer_netns=None,
            peer_name=text,
            mark=text,
        ),
        AddAddress(node=text, netns=text, dev=text, address=text),
        SetLinkUp(node=text, netns=text, name=text, master=text, mark=text),
        SetSysctl(node=text, netns=text, key=text, value=text),
        AddRoute(node=text, netns=text, to=text, via=text, dev=text, version=6),
        ApplyNftables(
            node=text,
            netns=text,
            table="netlab_abc123",
            nat=(Nat(source="10.0.0.0/8", out=None),),
            port_forwards=(PortForward(port=80, to="10.0.0.2"),),
        ),
    ]


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_step_quotes_every_field(text: str) -> None:
    """Each shell line of each step is one line of quoted words (the nft body aside), so a
    step the compiler did not check still runs nothing of its text; so is its description
    in the script."""
    steps = hostile_steps(text)
    for step in steps:
        for line in step.shell:
            command, _, body = line.partition("\n")
            assert not any(character in command for character in LINE_BREAKS), repr(line)
            assert not body or isinstance(step, ApplyNftables)
    plan = Plan(design_name=text, title=text, naming=Naming(TAG), namespaces={}, steps=tuple(steps))
    script = render_script(plan)
    script.encode()
    bash_parses(script)
    assert_no_line_runs_payload(script)


@pytest.mark.parametrize(
    "name", ['eth0"; touch pwned; "', "eth0\ntouch pwned", "eth0\u2028x"], ids=repr
)
@pytest.mark.parametrize("field", ["nat-out", "forward-in"])
def test_nft_text_refuses_names_it_cannot_quote(name: str, field: str) -> None:
    """nft's quoted strings have no escapes: a name that would end one is refused."""
    nat = (Nat(source="10.0.0.0/8", out=name if field == "nat-out" else None),)
    forward = PortForward(port=80, to="10.0.0.2", in_=name if field == "forward-in" else None)
    step = ApplyNftables(node="host", netns=NETNS, table="t", nat=nat, port_forwards=(forward,))
    with pytest.raises(ValueError, match="cannot be written as an nft string"):
        step.ruleset_text()


def test_iptables_equivalents_are_comments_of_quoted_words() -> None:
    """The tutorial's iptables lines, shown as comments; IPv6 is ip6tables with [address]."""
    design = load(changed(T4, {"nodes[0].port_forwards[0].to": "[2001:db8::2]:8080"}))
    (nft,) = [
        step for step in compile_plan(design, Naming(TAG)).steps if step.action == "apply-nftables"
    ]
    *comments, command = nft.shell
    assert comments == [
        "# iptables equivalent: iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o eth0 "
        "-j MASQUERADE",
        "# iptables equivalent: ip6tables -t nat -A PREROUTING -i eth0 -p tcp --dport 80 -j DNAT "
        "--to-destination '[2001:db8::2]:8080'",
    ]
    assert command.startswith(f"ip netns exec netlab-{TAG}-0 nft -f - <<'EOF'\n")
