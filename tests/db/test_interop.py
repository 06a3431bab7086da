"""Import and export of other tools' formats through every path: the CLI (import reports
each item left out on standard error, its last line still "<id> <name>"; --dry-run; export
--format containerlab), the API (POST /api/import, dry run, onto a document), and the
dashboard's import; one services.import_document behind them."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from factories import PAIR_TOPOLOGY, tutorial_data

from editor import services
from editor.models import Design, Revision
from netlab.core.interop import containerlab
from netlab.core.validation import load

pytestmark = pytest.mark.django_db

SCRIPT = """\
#!/bin/sh
ip netns add red
ip netns add blue
ip link add veth-red type veth peer name veth-blue
ip link set veth-red netns red
ip link set veth-blue netns blue
apk add iperf3
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n blue addr add 192.168.15.2/24 dev veth-blue
"""


def netlab(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("netlab", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def counts() -> tuple[int, int]:
    return Design.objects.count(), Revision.objects.count()


def test_cli_imports_a_script_reporting_each_line_left_out(owner, tmp_path):
    out, err = netlab("import", write(tmp_path, "pair.sh", SCRIPT), "--owner", "olivia")
    design = Design.objects.get()
    assert out.splitlines()[-1] == f"{design.pk} pair"
    assert err.splitlines() == ["line 7: 'apk add iperf3' not imported (installs a package)"]
    assert not design.current.draft
    assert design.current.message == "imported from pair.sh"
    assert [node["id"] for node in design.document["nodes"]] == ["red", "blue", "host"]


def test_cli_imports_a_topology_by_its_content_whatever_its_name(owner, tmp_path):
    out, err = netlab("import", write(tmp_path, "lab.txt", PAIR_TOPOLOGY), "--owner", "olivia")
    design = Design.objects.get()
    assert out.splitlines()[-1] == f"{design.pk} pair"
    assert "line 4: node a: 'image: alpine:3' not imported" in err


def test_cli_dry_run_prints_the_design_and_saves_nothing(owner, tmp_path):
    out, err = netlab("import", "--dry-run", write(tmp_path, "pair.sh", SCRIPT))
    assert load(yaml.safe_load(out)).name == "pair"
    assert "apk add iperf3" in err
    assert counts() == (0, 0)


def test_cli_import_of_a_lab_with_problems_saves_a_draft_and_says_why(owner, tmp_path):
    script = "ip netns add a\nip -n a route add default via 10.9.9.9\n"
    out, err = netlab("import", write(tmp_path, "broken.sh", script), "--owner", "olivia")
    design = Design.objects.get()
    assert design.current.draft
    assert out.splitlines()[-1] == f"{design.pk} broken"
    assert "saved as a draft: 1 problems to fix before deploying" in err


def test_cli_import_of_nothing_translatable_fails_and_saves_nothing(owner, tmp_path):
    with pytest.raises(CommandError, match=r"nothing in junk\.sh could be imported"):
        netlab("import", write(tmp_path, "junk.sh", "echo hello\ncurl x\n"), "--owner", "olivia")
    assert counts() == (0, 0)


def test_cli_exports_containerlab_and_it_imports_back_as_the_same_lab(owner, tmp_path):
    design = services.create_design(owner=owner, data=tutorial_data(3))
    out, _ = netlab("export", str(design.pk), "--format", "containerlab", "--image", "busybox")
    assert out.startswith("# containerlab topology of the netlab design tutorial-3-gateway-nat")
    assert "image: busybox" in out
    assert out == containerlab.write(load(design.document), image="busybox")
    again, _ = netlab("import", write(tmp_path, "lab.clab.yml", out), "--owner", "olivia")
    copy = Design.objects.get(pk=int(again.split()[-2]))
    assert copy.name == "tutorial-3-gateway-nat-2"
    assert {link["endpoints"][0]["interface"] for link in copy.document["links"]} == {
        link["endpoints"][0]["interface"] for link in design.document["links"]
    }


def test_a_draft_is_not_exported_as_a_topology(owner):
    design = services.create_design(
        owner=owner,
        data={"format": "netlab/v1", "name": "d", "nodes": [{"id": "a", "kind": "namespace"}]},
        draft=True,
    )
    with pytest.raises(CommandError, match="exported as a containerlab topology"):
        netlab("export", str(design.pk), "--format", "containerlab")


@pytest.fixture
def client(owner: Any) -> Client:
    """A browser logged in as ``owner``."""
    client = Client()
    client.force_login(owner)
    return client


def post(client: Any, body: dict[str, Any]) -> Any:
    return client.post("/api/import", json.dumps(body), content_type="application/json")


def test_api_import_creates_the_design_and_answers_the_report(token_client, owner):
    response = post(token_client, {"text": SCRIPT, "filename": "pair.sh", "message": "from a blog"})
    assert response.status_code == 201
    body = response.json()
    design = Design.objects.get()
    assert (body["source"], body["design"]["id"], body["design"]["name"]) == (
        "script", design.pk, "pair")  # fmt: skip
    assert body["notes"] == [{
        "line": 7, "text": "apk add iperf3", "reason": "installs a package", "node": None,
        "imported": False, "message": "line 7: 'apk add iperf3' not imported (installs a package)",
    }]  # fmt: skip
    assert design.current.message == "from a blog"


def test_api_dry_run_answers_the_document_and_saves_nothing(token_client):
    response = post(
        token_client, {"text": PAIR_TOPOLOGY, "filename": "x.clab.yml", "dry_run": True}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["source"], body["design"]) == ("containerlab", None)
    assert load(body["document"]).name == "pair"
    assert counts() == (0, 0)


def test_api_replays_pasted_commands_onto_a_document(token_client):
    onto = tutorial_data(1)
    text = "ip netns add green\nip link add g0 netns green type veth peer name g1 netns red"
    response = post(token_client, {"text": text, "dry_run": True, "onto": onto})
    assert response.status_code == 200
    document = load(response.json()["document"])
    assert document.name == onto["name"]
    assert [node.id for node in document.nodes] == ["host", "red", "blue", "green"]
    assert len(document.links) == 2


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ({"text": "echo hi", "filename": "x.sh"}, 422, "nothing in x.sh could be imported"),
        ({"text": "name: x\ntopology: [1]", "filename": "x.yml"}, 422, "topology"),
        ({"text": "nodes: [", "filename": "x.yaml"}, 400, "not valid YAML"),
        ({"text": "ip netns add a", "dry_run": True, "onto": {"nodes": "no"}}, 422, "nodes"),
        ({"text": "ip netns add a", "filename": ""}, 422, "filename"),
    ],
    ids=["nothing", "bad-topology", "bad-yaml", "bad-onto", "no-filename"],
)
def test_api_import_refusals_save_nothing(token_client, body, status, said):
    response = post(token_client, body)
    assert response.status_code == status
    assert said in json.dumps(response.json())
    assert counts() == (0, 0)


def test_dashboard_import_of_a_script_shows_its_report(client, owner):
    upload = SimpleUploadedFile("pair.sh", SCRIPT.encode(), content_type="text/x-shellscript")
    response = client.post("/designs/import", {"file": upload}, follow=True)
    design = Design.objects.get()
    assert response.redirect_chain[-1][0] == f"/designs/{design.pk}/"
    html = response.content.decode()
    assert "line 7: &#x27;apk add iperf3&#x27; not imported (installs a package)" in html


def test_the_export_link_gives_the_topology(client, owner):
    design = services.create_design(owner=owner, data=tutorial_data(2))
    response = client.get(f"/designs/{design.pk}/export.clab.yml")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tutorial-2-bridge.clab.yml"'
    assert response.content.decode() == containerlab.write(load(design.document))
