"""The explainer through the API and the command line: the same object, from the latest
saved revision, with the design's reading rules."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from factories import tutorial_data

from editor import services

pytestmark = pytest.mark.django_db

KEYS = {"source", "target", "address", "protocol", "port", "outcome", "reason", "hops", "reply",
        "fixes"}  # fmt: skip


@pytest.fixture
def gateway(owner: Any) -> Any:
    return services.create_design(owner=owner, data=tutorial_data(3))


def post(client: Any, design_id: int, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/designs/{design_id}/explain", data=json.dumps(body), content_type="application/json"
    )


def test_the_api_explains_a_path_and_its_way_back(token_client: Any, gateway: Any) -> None:
    response = post(token_client, gateway.pk, {"source": "blue", "target": "lan"})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == KEYS
    assert answer["outcome"] == "delivered"
    assert [hop["node"] for hop in answer["hops"]] == ["blue", "host", "lan"]
    assert [hop["node"] for hop in answer["reply"]] == ["lan", "host", "blue"]
    assert set(answer["hops"][1]) >= {"node", "in", "out", "route", "next_hop", "nat", "note"}
    assert answer["hops"][1]["nat"] == "masquerade: source 192.168.15.2 -> 192.168.1.2"


def test_the_api_offers_the_fix(token_client: Any, gateway: Any) -> None:
    answer = post(token_client, gateway.pk, {"source": "lan", "target": "blue"}).json()
    assert answer["outcome"] == "no-route"
    tcp = post(token_client, gateway.pk, {"source": "red", "target": "blue", "protocol": "tcp",
                                          "port": 22}).json()  # fmt: skip
    assert tcp["outcome"] == "port-closed"
    assert tcp["fixes"][0]["change"] == {"op": "add-service", "node": "blue",
                                         "service": {"kind": "tcp", "port": 22}}  # fmt: skip


def test_the_api_refuses_what_it_cannot_answer(
    token_client: Any, gateway: Any, make_design: Any, stranger: Any
) -> None:
    for body in ({"source": "v-net-0", "target": "red"}, {"source": "red", "target": "nowhere"},
                 {"source": "red", "target": "blue", "protocol": "tcp"}):  # fmt: skip
        response = post(token_client, gateway.pk, body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert post(token_client, gateway.pk, {"source": "red"}).status_code == 422
    theirs = make_design("private", owner=stranger)
    assert post(token_client, theirs.pk, {"source": "red", "target": "blue"}).status_code == 404


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("netlab", *args, stdout=out)
    return out.getvalue()


def test_the_command_line_explains_and_predicts_the_matrix(gateway: Any) -> None:
    answer = json.loads(run("explain", str(gateway.pk), "blue", "lan", "--json"))
    assert set(answer) == KEYS
    assert answer["outcome"] == "delivered"
    text = run("explain", str(gateway.pk), "lan", "blue")
    assert text.startswith("no-route: lan has no route to 192.168.15.2")
    assert "fix: add a default route via 192.168.1.2 in lan" in text
    cells = json.loads(run("explain", str(gateway.pk), "--matrix", "--json"))
    assert {"source", "address", "node", "reachable", "outcome"} == set(cells[0])
    assert ("lan", "192.168.15.2") in {
        (c["source"], c["address"]) for c in cells if not c["reachable"]
    }
    with pytest.raises(CommandError, match="needs SOURCE and TARGET"):
        run("explain", str(gateway.pk))


def test_the_api_predicts_the_ping_all(token_client: Any, gateway: Any) -> None:
    response = token_client.get(f"/api/designs/{gateway.pk}/explain/matrix")
    assert response.status_code == 200
    cells = response.json()
    assert cells == json.loads(run("explain", str(gateway.pk), "--matrix", "--json"))
    assert token_client.get(f"/api/designs/{gateway.pk + 999}/explain/matrix").status_code == 404
