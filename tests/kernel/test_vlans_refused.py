"""VLANs on this machine's kernel, which has neither 802.1Q nor bridge VLAN filtering: a
design using them is refused before anything is built (tests/kernel/test_vlans_guest.py
deploys them on a kernel that has them)."""

from __future__ import annotations

import pytest
from enginekit import Kit, requires_root
from factories import changed, design_data, vlan_design_data

from netlab.core.validation import load
from netlab.kernel import engine, features

pytestmark = [pytest.mark.kernel, requires_root]

STICK = vlan_design_data()


def test_a_design_with_vlans_is_refused_where_the_kernel_lacks_them(kit: Kit) -> None:
    """The sentence names each element, its feature and the kernel option; no namespace is
    made, and a running lab is left as it was when a live change would add a VLAN."""
    have = features.supported()
    if have["vlan"] or have["bridge-vlan-filtering"]:
        pytest.skip("this kernel has VLANs: the refusal cannot be seen here")
    sentence = (
        "bridge br0: VLAN filtering needs the kernel's bridge VLAN filtering "
        "(CONFIG_BRIDGE_VLAN_FILTERING), which this kernel lacks; namespace router: "
        "sub-interface eth0.10 needs the kernel's 802.1Q VLANs (CONFIG_VLAN_8021Q), which "
        "this kernel lacks; nothing was changed"
    )
    with pytest.raises(features.UnsupportedError) as refused:
        kit.deploy(load(STICK))
    assert str(refused.value) == sentence
    assert kit.namespaces() == []
    plain = design_data()
    record = kit.deploy(load(plain))
    tagged = changed(plain, {"nodes[1].subinterfaces": [{"parent": "veth-red", "vlan": 5}]})
    refusal = r"namespace red: sub-interface veth-red\.5"
    with pytest.raises(features.UnsupportedError, match=refusal):
        engine.change(load(plain), load(tagged), record, state_dir=kit.state_dir)
    assert engine.check(load(plain), record) == []
    kit.destroy(record)
