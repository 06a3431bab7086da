"""A share link is fresh whenever link sharing is (re)enabled: a link given out before a
design went private, or the one the gallery published while it was public, never opens it
again. Through the API, as an owner changes the visibility."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from factories import client_of

from editor import services
from editor.models import Design

pytestmark = pytest.mark.django_db

FRESH, SAME, NONE = "fresh", "same", "none"


def set_visibility(client: Client, design: Design, visibility: str, **extra: Any) -> Any:
    body = json.dumps({"visibility": visibility, **extra})
    response = client.put(
        f"/api/designs/{design.pk}/sharing", body, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["share_path"]


# (from, to): what becomes of the share link.
TRANSITIONS = [
    ("private", "link", FRESH),
    ("private", "public", FRESH),
    ("link", "private", NONE),
    ("public", "private", NONE),
    ("public", "link", FRESH),
    ("link", "public", SAME),
    ("link", "link", SAME),
    ("public", "public", SAME),
]


@pytest.mark.parametrize(("before", "after", "link"), TRANSITIONS)
def test_share_link_on_each_change(
    make_design: Any, owner: Any, before: str, after: str, link: str
) -> None:
    design = make_design("lab")
    client = client_of(owner)
    if before != "private":
        set_visibility(client, design, before)
    old = Design.objects.get(pk=design.pk).share_token
    path = set_visibility(client, design, after)
    new = Design.objects.get(pk=design.pk).share_token
    if link == NONE:
        assert new is None
        assert path is None
    elif link == SAME:
        assert new == old
    else:
        assert new
        assert new != old
    if new:
        assert path == f"/shared/{new}/"


def test_a_link_given_out_before_going_private_stays_dead(
    make_design: Any, owner: Any, stranger: Any
) -> None:
    """Link → private → link: the first link answers 404, the new one opens the design."""
    design = make_design("lab")
    client = client_of(owner)
    first = set_visibility(client, design, "link")
    set_visibility(client, design, "private")
    second = set_visibility(client, design, "link")
    reader = client_of(stranger)
    assert reader.get(f"/api{first}".rstrip("/")).status_code == 404
    assert reader.get(f"/api{second}".rstrip("/")).status_code == 200


def test_the_link_the_gallery_published_stops_when_unpublished(
    make_design: Any, owner: Any, stranger: Any
) -> None:
    """Public → link: the link anyone could copy from the gallery answers 404."""
    design = make_design("lab")
    client = client_of(owner)
    published = set_visibility(client, design, "public")
    assert published in client_of(None).get("/gallery/").content.decode()
    private_link = set_visibility(client, design, "link")
    assert private_link != published
    reader = client_of(stranger)
    assert reader.get(published).status_code == 404
    assert reader.get(private_link).status_code == 200


def test_the_sharing_page_gives_a_fresh_link_too(make_design: Any, owner: Any) -> None:
    """The pages share the service: private → link there also makes a new token."""
    design = make_design("lab")
    services.set_visibility(design, actor=owner, visibility="link")
    old = design.share_token
    services.set_visibility(design, actor=owner, visibility="private")
    client = client_of(owner)
    response = client.post(
        f"/designs/{design.pk}/sharing", {"action": "visibility", "visibility": "link"}
    )
    assert response.status_code == 302
    design.refresh_from_db()
    assert design.share_token
    assert design.share_token != old


def test_toggling_anonymous_access_keeps_the_link(make_design: Any, owner: Any) -> None:
    design = make_design("lab")
    client = client_of(owner)
    path = set_visibility(client, design, "link")
    assert set_visibility(client, design, "link", anonymous=True) == path
