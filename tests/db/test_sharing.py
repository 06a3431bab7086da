"""Sharing through the API: the permission matrix, share links, forks, collaborators,
history (restore, diff), the gallery and the quotas.

The expected answers are written out in the tables below, not computed by the code under
test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from factories import client_of, design_data, endpoint, link, node

from editor import deployments, services
from editor.models import Collaborator, Deployment, Design, Revision

pytestmark = pytest.mark.django_db

ACTORS = ("owner", "editor", "viewer", "stranger", "anonymous")


# (operation, visibility): expected status for owner, editor, viewer, stranger, anonymous.
MATRIX = [
    ("read", "private", (200, 200, 200, 404, 401)),
    ("read", "link", (200, 200, 200, 404, 401)),
    ("read", "public", (200, 200, 200, 200, 401)),
    ("save", "private", (200, 200, 404, 404, 401)),
    ("save", "link", (200, 200, 404, 404, 401)),
    ("save", "public", (200, 200, 404, 404, 401)),
    ("delete", "private", (204, 404, 404, 404, 401)),
    ("delete", "public", (204, 404, 404, 404, 401)),
    ("fork", "private", (201, 201, 201, 404, 401)),
    ("fork", "link", (201, 201, 201, 404, 401)),
    ("fork", "public", (201, 201, 201, 201, 401)),
    ("revoke", "link", (200, 404, 404, 404, 401)),
    ("revoke", "public", (200, 404, 404, 404, 401)),
    ("sharing", "private", (200, 404, 404, 404, 401)),
    ("revisions", "private", (200, 200, 200, 404, 401)),
    ("revisions", "public", (200, 200, 200, 200, 401)),
    ("shared-link", "link", (200, 200, 200, 200, 404)),
    ("shared-link", "public", (200, 200, 200, 200, 200)),  # public: anyone may read
]


def perform(client: Client, operation: str, design: Design) -> int:
    base = f"/api/designs/{design.pk}"
    if operation == "read":
        return client.get(base).status_code
    if operation == "save":
        body = json.dumps(design_data(name=design.name, title="changed"))
        return client.put(base, body, content_type="application/json").status_code
    if operation == "delete":
        return client.delete(base).status_code
    if operation == "fork":
        return client.post(f"{base}/fork").status_code
    if operation == "revoke":
        return client.delete(f"{base}/share-link").status_code
    if operation == "sharing":
        return client.get(f"{base}/sharing").status_code
    if operation == "revisions":
        return client.get(f"{base}/revisions").status_code
    if operation == "shared-link":
        return client.get(f"/api/shared/{design.share_token}").status_code
    raise AssertionError(operation)


@pytest.mark.parametrize(
    ("operation", "visibility", "expected"),
    [pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in MATRIX],
)
def test_permission_matrix(
    shared: Any, people: dict[str, Any], operation: str, visibility: str, expected: tuple[int, ...]
) -> None:
    """Each kind of user gets exactly the listed answer for each operation and visibility."""
    answers = {}
    for actor in ACTORS:
        design = shared(visibility, name=f"lab-{actor}")
        answers[actor] = perform(client_of(people[actor]), operation, design)
    assert answers == dict(zip(ACTORS, expected, strict=True))


def test_hidden_design_answers_like_a_missing_one(shared: Any, people: dict[str, Any]) -> None:
    """A stranger asking for a private design gets the very answer a missing id gets."""
    design = shared("private")
    client = client_of(people["stranger"])
    hidden = client.get(f"/api/designs/{design.pk}")
    missing = client.get("/api/designs/999999")
    assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)


def test_revoked_and_guessed_links_answer_like_missing(shared: Any, people: dict[str, Any]) -> None:
    """After revoking, the old link is dead; a guessed token is dead; a new link works."""
    design = shared("link")
    old = design.share_token
    client = client_of(people["stranger"])
    assert client.get(f"/api/shared/{old}").status_code == 200

    services.renew_share_link(design, actor=people["owner"])
    dead = client.get(f"/api/shared/{old}")
    guessed = client.get("/api/shared/" + "A" * 43)
    assert dead.status_code == guessed.status_code == 404
    assert dead.content == guessed.content
    assert client.get(f"/api/shared/{design.share_token}").status_code == 200

    services.revoke_share_link(design, actor=people["owner"])
    design.refresh_from_db()
    assert design.share_token is None
    assert design.visibility == Design.Visibility.PRIVATE


def test_link_made_private_stops_working(shared: Any, people: dict[str, Any]) -> None:
    """Turning a link-shared design private closes its link (the token is dropped)."""
    design = shared("link")
    token = design.share_token
    services.set_visibility(design, actor=people["owner"], visibility="private")
    assert client_of(people["stranger"]).get(f"/api/shared/{token}").status_code == 404


def test_anonymous_link_only_when_allowed(shared: Any, people: dict[str, Any]) -> None:
    """An anonymous visitor reads a shared design only if the owner allowed it."""
    design = shared("link")
    anonymous = Client()
    assert anonymous.get(f"/api/shared/{design.share_token}").status_code == 404
    services.set_visibility(design, actor=people["owner"], visibility="link", anonymous=True)
    assert anonymous.get(f"/api/shared/{design.share_token}").status_code == 200
    # Reading is all an anonymous visitor may do: forking needs an account.
    assert anonymous.post(f"/api/shared/{design.share_token}/fork").status_code == 401


def test_fork_keeps_its_origin(shared: Any, people: dict[str, Any]) -> None:
    """A fork is the forker's own design, points at its origin, and the origin counts it."""
    design = shared("link")
    client = client_of(people["stranger"])
    response = client.post(f"/api/shared/{design.share_token}/fork")
    assert response.status_code == 201
    fork = response.json()
    assert fork["owner"] == people["stranger"].username
    assert fork["forked_from"] == {"id": design.pk, "name": "lab", "owner": "olivia"}
    assert fork["document"]["nodes"] == design.document["nodes"]
    origin = client_of(people["owner"]).get(f"/api/designs/{design.pk}").json()
    assert origin["fork_count"] == 1
    # The fork is private to its new owner.
    assert client_of(people["viewer"]).get(f"/api/designs/{fork['id']}").status_code == 404


def test_collaborators_are_managed_by_the_owner(shared: Any, people: dict[str, Any]) -> None:
    """The owner sets and removes roles; the owner cannot be made a collaborator."""
    design = shared("private")
    owner = client_of(people["owner"])
    base = f"/api/designs/{design.pk}/collaborators"
    body = json.dumps({"role": "edit"})
    response = owner.put(f"{base}/vera", body, content_type="application/json")
    assert response.status_code == 200
    assert {"user": "vera", "role": "edit"} in response.json()["collaborators"]
    assert owner.put(f"{base}/olivia", body, content_type="application/json").status_code == 422
    assert owner.put(f"{base}/nobody", body, content_type="application/json").status_code == 404
    assert owner.delete(f"{base}/vera").status_code == 200
    assert not Collaborator.objects.filter(design=design, user=people["viewer"]).exists()
    assert client_of(people["viewer"]).get(f"/api/designs/{design.pk}").status_code == 404


def test_restore_makes_a_new_revision(make_design: Any, owner: Any) -> None:
    """Restoring revision 1 saves its document as revision 3; history is kept."""
    design = make_design("lab", title="first")
    services.save_revision(design, author=owner, data=design_data(name="lab", title="second"))
    client = client_of(owner)
    response = client.post(f"/api/designs/{design.pk}/revisions/1/restore")
    assert response.status_code == 200
    assert response.json()["revision"] == 3
    assert response.json()["document"]["title"] == "first"
    assert list(Revision.objects.filter(design=design).values_list("number", flat=True)) == [
        3,
        2,
        1,
    ]
    assert client.post(f"/api/designs/{design.pk}/revisions/9/restore").status_code == 404


def test_diff_between_revisions(make_design: Any, owner: Any) -> None:
    """The diff names added, removed and changed elements between two revisions."""
    design = make_design("lab")
    changed = design_data(
        name="lab",
        nodes=[{"id": "host", "kind": "host"}, node("red"), node("green")],
        links=[
            link(endpoint("red", "eth0", "10.0.0.1/24"), endpoint("green", "eth0", "10.0.0.2/24"))
        ],
    )
    services.save_revision(design, author=owner, data=changed)
    response = client_of(owner).get(f"/api/designs/{design.pk}/diff?base=1&head=2")
    assert response.status_code == 200
    changes = {(item["kind"], item["key"], item["change"]) for item in response.json()["elements"]}
    assert ("node", "green", "added") in changes


def test_gallery_lists_public_designs_only(shared: Any, people: dict[str, Any]) -> None:
    """The gallery shows public designs to anyone, searchable by name and title."""
    shared("public", name="open-lab")
    shared("link", name="secret-lab")
    answer = Client().get("/api/gallery").json()
    assert [item["name"] for item in answer] == ["open-lab"]
    assert Client().get("/api/gallery?q=secret").json() == []
    assert [item["name"] for item in Client().get("/api/gallery?q=OPEN").json()] == ["open-lab"]


def test_node_quota(settings: Any, owner: Any) -> None:
    """One node over the limit is refused with a problem at 'nodes'; nothing is saved."""
    settings.NETLAB_MAX_NODES = 3
    fits = design_data(
        name="fits", nodes=[{"id": "host", "kind": "host"}, node("a"), node("b")], links=[]
    )
    services.create_design(owner=owner, data=fits)
    too_big = design_data(
        name="big",
        nodes=[{"id": "host", "kind": "host"}, node("a"), node("b"), node("c")],
        links=[],
    )
    response = client_of(owner).post(
        "/api/designs", json.dumps(too_big), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "nodes"
    assert not Design.objects.filter(name="big").exists()


def test_running_deployments_quota(settings: Any, make_design: Any, owner: Any) -> None:
    """The deployment past the per-user limit is refused and leaves no row behind."""
    settings.NETLAB_MAX_RUNNING_PER_USER = 2
    for name in ("one", "two"):
        deployments.request_deploy(make_design(name), actor=owner)
    third = make_design("three")
    with pytest.raises(deployments.DeploymentRefused, match="most this server allows"):
        deployments.request_deploy(third, actor=owner)
    assert Deployment.objects.count() == 2


def test_namespace_quota(settings: Any, make_design: Any, owner: Any) -> None:
    """A deployment that would pass the machine's namespace limit is refused."""
    settings.NETLAB_MAX_NAMESPACES = 3
    design = make_design("lab")  # the factory's design has a host and namespaces
    size = deployments.namespace_count(deployments.Document.model_validate(design.document))
    settings.NETLAB_MAX_NAMESPACES = size
    deployments.request_deploy(design, actor=owner)
    with pytest.raises(deployments.DeploymentRefused, match="namespaces"):
        deployments.request_deploy(make_design("other"), actor=owner)
    assert Deployment.objects.count() == 1
