"""Draft revisions (issue 18): a design with problems is saved as a draft, never lost, and
refused for deploy and for the script export until a later revision is valid; a valid design
saves exactly as before."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from factories import changed, design_data

from editor import deployments, services
from editor.consumers import _request_change
from editor.models import Deployment, Revision

pytestmark = pytest.mark.django_db

BAD_ADDRESS = {"links[0].endpoints[0].addresses[0]": "192.168.15.300/24"}


def with_problem(name: str = "lab") -> dict[str, Any]:
    return changed(design_data(name=name), BAD_ADDRESS)


def put_json(client: Client, url: str, data: Any) -> Any:
    return client.put(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def drafted(make_design: Any, owner: Any) -> Any:
    """A design whose current revision (r2) is a draft with one bad address."""
    design = make_design("lab")
    services.save_revision(design, author=owner, data=with_problem(), draft=True)
    return design


def test_a_design_with_problems_is_saved_as_a_draft_revision(make_design, owner):
    design = make_design("lab")
    revision = services.save_revision(design, author=owner, data=with_problem(), draft=True)
    assert revision.draft is True
    assert revision.number == 2
    assert design.current == revision
    assert revision.document["links"][0]["endpoints"][0]["addresses"] == ["192.168.15.300/24"]
    assert [problem.path for problem in services.problems_of(revision)] == list(BAD_ADDRESS)


def test_a_valid_design_saved_with_draft_allowed_is_an_ordinary_revision(make_design, owner):
    design = make_design("lab")
    revision = services.save_revision(
        design, author=owner, data=design_data(name="lab", title="fine"), draft=True
    )
    assert revision.draft is False
    assert services.problems_of(revision) == []


def test_without_draft_a_design_with_problems_is_still_refused(make_design, owner):
    design = make_design("lab")
    with pytest.raises(services.InvalidDesign):
        services.save_revision(design, author=owner, data=with_problem())
    assert Revision.objects.filter(design=design).count() == 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([1, 2], id="not-a-mapping"),
        pytest.param({**design_data(name="lab"), "colour": "red"}, id="unknown-field"),
        pytest.param(changed(design_data(name="lab"), {"nodes[1].kind": "router"}), id="bad-kind"),
    ],
)
def test_a_draft_must_still_read_as_a_document(make_design, owner, data):
    design = make_design("lab")
    with pytest.raises(services.InvalidDesign):
        services.save_revision(design, author=owner, data=data, draft=True)
    assert Revision.objects.filter(design=design).count() == 1


def test_a_draft_with_a_bad_name_keeps_the_designs_name(make_design, owner):
    design = make_design("lab")
    services.save_revision(design, author=owner, data=design_data(name="Not A Slug!"), draft=True)
    design.refresh_from_db()
    assert design.name == "lab"
    assert design.current.draft
    assert design.current.document["name"] == "Not A Slug!"


def test_the_api_saves_a_draft_only_when_asked_and_says_so(client, make_design):
    design = make_design("lab")
    url = f"/api/designs/{design.pk}"
    refused = put_json(client, url, with_problem())
    assert refused.status_code == 422
    saved = put_json(client, f"{url}?draft=true", with_problem())
    assert saved.status_code == 200
    body = saved.json()
    assert body["draft"] is True
    assert body["revision"] == 2
    assert [problem["path"] for problem in body["problems"]] == list(BAD_ADDRESS)
    assert client.get(url).json()["draft"] is True
    history = client.get(f"{url}/revisions").json()
    assert [(row["number"], row["draft"]) for row in history] == [(2, True), (1, False)]
    fixed = put_json(client, f"{url}?draft=true", design_data(name="lab"))
    assert (fixed.json()["draft"], fixed.json()["problems"], fixed.json()["revision"]) == (
        False,
        [],
        3,
    )


def test_deploying_a_draft_is_refused_naming_its_problems(drafted, owner):
    with pytest.raises(deployments.DeploymentRefused) as refused:
        deployments.request_deploy(drafted, actor=owner)
    message = str(refused.value)
    assert "draft" in message
    assert "links[0].endpoints[0].addresses[0]" in message
    assert "192.168.15.300/24" in message
    assert not Deployment.objects.exists()


def test_the_websocket_deploy_of_a_draft_is_refused(drafted, owner):
    """The consumer's deploy goes through the same request and refusal."""
    with pytest.raises(deployments.DeploymentRefused, match="is a draft"):
        _request_change(owner, drafted.pk, "deploy")
    assert not Deployment.objects.exists()


def test_the_cli_deploy_of_a_draft_is_refused(drafted):
    with pytest.raises(CommandError, match="is a draft"):
        call_command("netlab", "deploy", str(drafted.pk), stdout=io.StringIO())
    assert not Deployment.objects.exists()


def test_the_page_refuses_the_script_of_a_draft(client, drafted):
    response = client.get(f"/designs/{drafted.pk}/export.sh")
    assert response.status_code == 422
    assert "is a draft" in response.content.decode()
    assert client.get(f"/designs/{drafted.pk}/export.json").status_code == 200


def test_the_cli_refuses_the_script_of_a_draft(drafted):
    with pytest.raises(CommandError, match="is a draft"):
        call_command("netlab", "export", str(drafted.pk), "--format", "sh", stdout=io.StringIO())
    out = io.StringIO()
    call_command("netlab", "export", str(drafted.pk), "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["links"][0]["endpoints"][0]["addresses"] == [
        "192.168.15.300/24"
    ]


def test_history_shows_drafts_as_such(client, drafted):
    page = client.get(f"/designs/{drafted.pk}/").content.decode()
    assert 'data-draft="true"' in page
    assert page.count('data-testid="revision-draft"') == 1
    history = client.get(f"/designs/{drafted.pk}/history").content.decode()
    assert history.count('data-testid="revision-draft"') == 1
    revision = client.get(f"/designs/{drafted.pk}/revisions/2/").content.decode()
    assert "a draft" in revision


def test_a_valid_revision_after_a_draft_deploys(drafted, owner):
    services.save_revision(drafted, author=owner, data=design_data(name="lab"), draft=True)
    deployment = deployments.request_deploy(drafted, actor=owner)
    assert deployment.revision.number == 3


def test_restoring_a_draft_makes_a_draft(drafted, owner):
    services.save_revision(drafted, author=owner, data=design_data(name="lab"))
    restored = services.restore_revision(drafted, actor=owner, number=2)
    assert restored.draft is True
    assert restored.number == 4


def test_the_fork_of_a_draft_is_a_draft(drafted, stranger):
    drafted.visibility = "public"
    drafted.save()
    fork = services.fork_design(drafted, actor=stranger)
    assert fork.current.draft is True
    assert fork.name == "lab"
    assert fork.current.document["links"][0]["endpoints"][0]["addresses"] == ["192.168.15.300/24"]


def test_history_diff_and_gallery_picture_of_a_draft_naming_a_missing_node(
    client, make_design, owner
):
    """A draft may name a node that does not exist: its pages still answer."""
    design = make_design("lab")
    data = changed(design_data(name="lab"), {"links[0].endpoints[0].node": "nowhere"})
    services.save_revision(design, author=owner, data=data, draft=True)
    assert services.problems_of(design.current)
    assert client.get(f"/designs/{design.pk}/").status_code == 200
    assert client.get(f"/designs/{design.pk}/history?base=1&head=2").status_code == 200
    assert client.get(f"/designs/{design.pk}/revisions/2/").status_code == 200
    assert client.get(f"/api/designs/{design.pk}/diff?base=1&head=2").status_code == 200
    services.picture_of(design.current)


def test_the_api_creates_a_draft_design_only_when_asked(client):
    refused = client.post("/api/designs", json.dumps(with_problem("new")), "application/json")
    assert refused.status_code == 422
    made = client.post(
        "/api/designs?draft=true", json.dumps(with_problem("new")), "application/json"
    )
    assert made.status_code == 201
    assert (made.json()["draft"], made.json()["revision"]) == (True, 1)
    bad_name = changed(with_problem("new"), {"name": "Not A Slug"})
    named = client.post("/api/designs?draft=true", json.dumps(bad_name), "application/json")
    assert named.status_code == 422
    assert [problem["path"] for problem in named.json()["problems"]] == ["name"]
