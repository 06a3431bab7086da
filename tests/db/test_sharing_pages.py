"""Sharing through the pages: the same rules as the API, answers listed in the tables."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from factories import client_of, design_data

from editor import services
from editor.models import Collaborator, Design

pytestmark = pytest.mark.django_db

ACTORS = ("owner", "editor", "viewer", "stranger", "anonymous")
LOGIN = 302  # login_required sends anonymous visitors to the login page


# (page, visibility): status for owner, editor, viewer, stranger, anonymous.
PAGES = [
    ("design", "private", (200, 200, 200, 404, LOGIN)),
    ("design", "public", (200, 200, 200, 200, LOGIN)),
    ("history", "private", (200, 200, 200, 404, LOGIN)),
    ("history", "public", (200, 200, 200, 200, LOGIN)),
    ("sharing", "private", (200, 404, 404, 404, LOGIN)),
    ("sharing", "public", (200, 404, 404, 404, LOGIN)),
    ("shared", "link", (200, 200, 200, 200, 404)),
    ("shared", "public", (200, 200, 200, 200, 200)),
    ("shared-anonymous", "link", (200, 200, 200, 200, 200)),
    ("fork", "private", (302, 302, 302, 404, LOGIN)),
    ("fork", "public", (302, 302, 302, 302, LOGIN)),
    ("delete", "private", (302, 404, 404, 404, LOGIN)),
    ("restore", "private", (302, 302, 404, 404, LOGIN)),
]


def visit(client: Client, page: str, design: Design) -> int:
    if page == "design":
        return client.get(f"/designs/{design.pk}/").status_code
    if page == "history":
        return client.get(f"/designs/{design.pk}/history").status_code
    if page == "sharing":
        return client.get(f"/designs/{design.pk}/sharing").status_code
    if page in ("shared", "shared-anonymous"):
        return client.get(f"/shared/{design.share_token}/").status_code
    if page == "fork":
        return client.post(f"/designs/{design.pk}/fork").status_code
    if page == "delete":
        return client.post(f"/designs/{design.pk}/delete").status_code
    if page == "restore":
        return client.post(f"/designs/{design.pk}/revisions/1/restore").status_code
    raise AssertionError(page)


@pytest.mark.parametrize(
    ("page", "visibility", "expected"),
    [pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in PAGES],
)
def test_page_matrix(
    shared: Any, people: dict[str, Any], page: str, visibility: str, expected: tuple[int, ...]
) -> None:
    """Each kind of user gets exactly the listed answer from each page."""
    answers = {}
    for actor in ACTORS:
        design = shared(visibility, name=f"lab-{actor}", anonymous=page == "shared-anonymous")
        answers[actor] = visit(client_of(people[actor]), page, design)
    assert answers == dict(zip(ACTORS, expected, strict=True))


def test_gallery_is_public_and_searchable(shared: Any) -> None:
    """Anyone sees public designs in the gallery, and only those."""
    shared("public", name="open-lab")
    shared("link", name="secret-lab")
    page = Client().get("/gallery/")
    assert page.status_code == 200
    assert b"open-lab" in page.content
    assert b"secret-lab" not in page.content
    assert b"open-lab" not in Client().get("/gallery/?q=nothing-like-it").content


def test_owner_shares_through_the_sharing_page(shared: Any, people: dict[str, Any]) -> None:
    """Visibility, collaborators and the share link are all set from the sharing page."""
    design = shared("private")
    owner = client_of(people["owner"])
    url = f"/designs/{design.pk}/sharing"
    owner.post(url, {"action": "visibility", "visibility": "link"})
    design.refresh_from_db()
    assert design.visibility == "link"
    assert design.share_token
    old = design.share_token
    owner.post(url, {"action": "renew-link"})
    design.refresh_from_db()
    assert design.share_token != old
    assert Client().get(f"/shared/{old}/").status_code == 404

    owner.post(url, {"action": "add-collaborator", "username": "mallory2", "role": "edit"})
    assert Collaborator.objects.get(design=design, user=people["stranger"]).role == "edit"
    owner.post(url, {"action": "remove-collaborator", "username": "mallory2"})
    assert not Collaborator.objects.filter(design=design, user=people["stranger"]).exists()

    owner.post(url, {"action": "revoke-link"})
    design.refresh_from_db()
    assert design.share_token is None
    assert design.visibility == "private"


def test_fork_from_a_share_link(shared: Any, people: dict[str, Any]) -> None:
    """A logged-in visitor of a share link forks it; the fork shows its origin's count."""
    design = shared("link")
    stranger = client_of(people["stranger"])
    response = stranger.post(f"/shared/{design.share_token}/fork")
    assert response.status_code == 302
    fork = Design.objects.get(owner=people["stranger"])
    assert fork.forked_from == design
    page = stranger.get(f"/shared/{design.share_token}/")
    assert b"1 fork" in page.content


def test_history_shows_the_diff(make_design: Any, owner: Any) -> None:
    """The history page lists revisions and what changed between the last two."""
    design = make_design("lab")
    services.save_revision(
        design,
        author=owner,
        data=design_data(
            name="lab", nodes=[*design_data()["nodes"], {"id": "green", "kind": "namespace"}]
        ),
        message="add green",
    )
    page = client_of(owner).get(f"/designs/{design.pk}/history")
    assert page.status_code == 200
    assert b"add green" in page.content
    assert b"<code>green</code> added" in page.content
    assert b'id="preview-changes"' in page.content


@pytest.mark.parametrize(
    "path",
    [
        "/designs/{id}/sharing",
        "/designs/{id}/fork",
        "/designs/{id}/revisions/1/restore",
        "/designs/{id}/delete",
        "/shared/{token}/fork",
    ],
)
def test_every_write_needs_the_csrf_token(shared: Any, people: dict[str, Any], path: str) -> None:
    """A session client posting without Django's CSRF token is refused and changes nothing."""
    design = shared("link")
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["owner"])
    url = path.format(id=design.pk, token=design.share_token)
    response = client.post(url, {"action": "revoke-link"})
    assert response.status_code == 403
    design.refresh_from_db()
    assert design.share_token is not None
    assert Design.objects.count() == 1
