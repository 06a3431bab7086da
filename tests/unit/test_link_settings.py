"""Link impairments, MTU and link state in the document: validation, one named row per rule.

SMALL is red (veth-red, 192.168.15.1/24) and blue (veth-blue, 192.168.15.2/24) joined by
link 0. Invalid rows change one thing and expect exactly one problem, at its path.
"""

from __future__ import annotations

from typing import Any

import pytest
from factories import changed, design_data

from netlab.core.document import Document, Impairment, json_schema
from netlab.core.validation import load, problems_of

SMALL = design_data()
LINK = "links[0]"
END0 = "links[0].endpoints[0]"
END1 = "links[0].endpoints[1]"


def with_link(**fields: Any) -> dict[str, Any]:
    return changed(SMALL, {f"{LINK}.{key}": value for key, value in fields.items()})


VALID = [
    pytest.param(
        with_link(
            impairment={
                "delay_ms": 30,
                "jitter_ms": 5,
                "loss_percent": 1,
                "rate_kbit": 10_000,
                "corrupt_percent": 0.1,
                "duplicate_percent": 0.5,
            }
        ),
        id="every-field-on-the-link",
    ),
    pytest.param(with_link(impairment={}), id="empty-impairment"),
    pytest.param(with_link(impairment={"loss_percent": 100}), id="loss-of-100"),
    pytest.param(with_link(impairment={"loss_percent": 0}), id="loss-of-0"),
    pytest.param(with_link(impairment={"rate_kbit": 1}), id="slowest-rate"),
    pytest.param(with_link(impairment={"delay_ms": 60_000}), id="a-minute-of-delay"),
    pytest.param(
        changed(SMALL, {f"{END0}.impairment": {"delay_ms": 10, "jitter_ms": 2}}),
        id="one-end-only",
    ),
    pytest.param(
        changed(with_link(impairment={"delay_ms": 10}), {f"{END1}.impairment": {"jitter_ms": 3}}),
        id="end-jitter-over-link-delay",
    ),
    pytest.param(with_link(mtu=68), id="smallest-mtu"),
    pytest.param(with_link(mtu=65535), id="largest-mtu"),
    pytest.param(with_link(mtu=9000), id="jumbo-frames"),
    pytest.param(with_link(up=False), id="link-down"),
    pytest.param(
        changed(SMALL, {f"{END0}.addresses[1]": "fd00::1/64", f"{LINK}.mtu": 1280}),
        id="ipv6-at-mtu-1280",
    ),
]


@pytest.mark.parametrize("data", VALID)
def test_valid_link_settings(data: dict[str, Any]) -> None:
    """A valid link setting has no problem and loads."""
    assert problems_of(data) == []
    assert isinstance(load(data), Document)


INVALID = [
    pytest.param(
        with_link(impairment={"delay_ms": -1}),
        f"{LINK}.impairment.delay_ms",
        "not negative; -1 is",
        id="negative-delay",
    ),
    pytest.param(
        changed(SMALL, {f"{END1}.impairment": {"rate_kbit": -5}}),
        f"{END1}.impairment.rate_kbit",
        "not negative",
        id="negative-rate-on-an-end",
    ),
    pytest.param(
        with_link(impairment={"loss_percent": 100.5}),
        f"{LINK}.impairment.loss_percent",
        "a percentage is at most 100; 100.5 is over",
        id="loss-over-100",
    ),
    pytest.param(
        with_link(impairment={"corrupt_percent": 101}),
        f"{LINK}.impairment.corrupt_percent",
        "at most 100",
        id="corrupt-over-100",
    ),
    pytest.param(
        changed(SMALL, {f"{END0}.impairment": {"duplicate_percent": 200}}),
        f"{END0}.impairment.duplicate_percent",
        "at most 100",
        id="duplicate-over-100",
    ),
    pytest.param(
        with_link(impairment={"delay_ms": 60_001}),
        f"{LINK}.impairment.delay_ms",
        "at most 60000 ms",
        id="delay-over-a-minute",
    ),
    pytest.param(
        with_link(impairment={"rate_kbit": 0}),
        f"{LINK}.impairment.rate_kbit",
        "a rate is from 1 to 10000000 kbit/s",
        id="rate-of-zero",
    ),
    pytest.param(
        with_link(impairment={"rate_kbit": 20_000_000}),
        f"{LINK}.impairment.rate_kbit",
        "a rate is from 1",
        id="rate-over-10-gbit",
    ),
    pytest.param(
        with_link(impairment={"delay_ms": float("nan")}),
        f"{LINK}.impairment.delay_ms",
        "finite",
        id="delay-not-a-number",
    ),
    pytest.param(
        with_link(impairment={"delay_ms": "30ms"}),
        f"{LINK}.impairment.delay_ms",
        "valid",
        id="delay-as-text",
    ),
    pytest.param(
        with_link(impairment={"latency": 30}),
        f"{LINK}.impairment.latency",
        "unknown field 'latency'",
        id="unknown-impairment-field",
    ),
    pytest.param(
        with_link(impairment={"jitter_ms": 5}),
        f"{LINK}.impairment.jitter_ms",
        "jitter varies a delay",
        id="link-jitter-without-delay-told-once",
    ),
    pytest.param(
        changed(SMALL, {f"{END1}.impairment": {"jitter_ms": 5}}),
        f"{END1}.impairment.jitter_ms",
        "veth-blue's egress has jitter and no delay",
        id="end-jitter-without-delay",
    ),
    pytest.param(
        changed(
            with_link(impairment={"delay_ms": 10, "jitter_ms": 5}),
            {f"{END0}.impairment": {"delay_ms": 0}},
        ),
        f"{LINK}.impairment.jitter_ms",
        "veth-red's egress has jitter and no delay",
        id="end-delay-of-zero-overrides-the-link-delay-under-its-jitter",
    ),
    pytest.param(with_link(mtu=67), f"{LINK}.mtu", "from 68 to 65535; 67 is not", id="mtu-67"),
    pytest.param(with_link(mtu=65536), f"{LINK}.mtu", "65536 is not", id="mtu-65536"),
    pytest.param(with_link(mtu=1500.0), f"{LINK}.mtu", "valid integer", id="mtu-not-an-int"),
    pytest.param(with_link(mtu="1500"), f"{LINK}.mtu", "valid integer", id="mtu-as-text"),
    pytest.param(with_link(up="no"), f"{LINK}.up", "valid boolean", id="up-not-a-boolean"),
    pytest.param(
        changed(SMALL, {f"{END0}.addresses[1]": "fd00::1/64", f"{LINK}.mtu": 1279}),
        f"{END0}.addresses[1]",
        "IPv6 needs an MTU of at least 1280",
        id="ipv6-below-mtu-1280",
    ),
]


@pytest.mark.parametrize(("data", "path", "message"), INVALID)
def test_invalid_link_settings(data: Any, path: str, message: str) -> None:
    """An invalid link setting is exactly one problem, at its path, for its reason."""
    problems = problems_of(data)
    assert [problem.path for problem in problems] == [path], problems
    assert message in problems[0].message


@pytest.mark.parametrize(
    ("link", "end", "expected"),
    [
        pytest.param({}, {}, None, id="none"),
        pytest.param({"delay_ms": 30}, None, {"delay_ms": 30}, id="the-link-s"),
        pytest.param(None, {"loss_percent": 1}, {"loss_percent": 1}, id="the-end-s"),
        pytest.param(
            {"delay_ms": 30, "loss_percent": 1},
            {"delay_ms": 5, "rate_kbit": 100},
            {"delay_ms": 5, "loss_percent": 1, "rate_kbit": 100},
            id="the-end-s-fields-win-per-field",
        ),
        pytest.param({"delay_ms": 30}, {}, {"delay_ms": 30}, id="an-empty-end-keeps-the-link-s"),
    ],
)
def test_an_end_s_impairment_is_its_own_over_the_link_s(
    link: dict[str, Any] | None, end: dict[str, Any] | None, expected: dict[str, Any] | None
) -> None:
    """Each end's egress: the endpoint's fields override the link's, field by field."""
    data = SMALL
    if link is not None:
        data = changed(data, {f"{LINK}.impairment": link})
    if end is not None:
        data = changed(data, {f"{END0}.impairment": end})
    design = load(data)
    found = design.links[0].impairment_of(0)
    assert (found.model_dump(exclude_none=True) if found else None) == expected
    other = design.links[0].impairment_of(1)
    assert (other.model_dump(exclude_none=True) if other else None) == (link or None)


def test_fields_round_trip_and_are_in_the_schema() -> None:
    """The fields survive a save, and the JSON Schema the browser reads has them."""
    data = changed(
        with_link(impairment={"delay_ms": 30, "loss_percent": 1.5}, mtu=9000, up=False),
        {f"{END1}.impairment": {"rate_kbit": 10_000}},
    )
    assert load(data).to_data()["links"] == data["links"]
    defs = json_schema()["$defs"]
    assert set(defs["Impairment"]["properties"]) == set(Impairment.model_fields)
    assert {"impairment", "mtu", "up"} <= set(defs["Link"]["properties"])
    assert "impairment" in defs["Endpoint"]["properties"]
