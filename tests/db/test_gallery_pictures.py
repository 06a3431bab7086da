"""The public gallery shows pictures drawn when a revision is saved: no document is laid
out per request, pages hold ``GALLERY_PAGE`` cards, and nothing a user wrote becomes markup.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from factories import design_data, node

from editor import services, views_sharing
from editor.models import Design, Revision

pytestmark = pytest.mark.django_db

PICTURE = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
HOSTILE = '</h3><script>alert("title")</script><img src=x onerror=alert(1)>'


def public(make_design: Any, owner: Any, name: str, **fields: Any) -> Design:
    design = make_design(name, **fields)
    services.set_visibility(design, actor=owner, visibility="public")
    return design


def pictures(page: Any) -> list[str]:
    return [base64.b64decode(found).decode() for found in PICTURE.findall(page.content.decode())]


def test_a_picture_is_stored_when_a_revision_is_saved(make_design: Any, owner: Any) -> None:
    design = make_design("lab")
    first = design.current.picture
    assert first.startswith("<svg")
    services.save_revision(design, author=owner, data=design_data(name="lab", title="other"))
    design.refresh_from_db()
    assert design.current.picture.startswith("<svg")
    assert design.current.picture != first  # the title is the picture's title


def test_the_gallery_shows_stored_pictures(make_design: Any, owner: Any) -> None:
    design = public(make_design, owner, "lab")
    page = Client().get("/gallery/")
    assert page.status_code == 200
    assert pictures(page) == [design.current.picture]
    assert b"thumbnails.js" not in page.content
    assert b"json_script" not in page.content
    assert b'type="application/json"' not in page.content


def test_the_gallery_lays_nothing_out_per_request(
    make_design: Any, owner: Any, monkeypatch: Any
) -> None:
    """With every picture stored, a page reads no document and makes a fixed few queries."""
    for number in range(5):
        public(make_design, owner, f"lab-{number}")

    def no_layout(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the gallery laid out a document")

    def gallery() -> list[dict[str, Any]]:
        with monkeypatch.context() as patch:
            patch.setattr(views_sharing, "auto_layout", no_layout)
            patch.setattr("netlab.core.picture.auto_layout", no_layout)
            with CaptureQueriesContext(connection) as queries:
                assert Client().get("/gallery/").status_code == 200
        return queries.captured_queries

    few = gallery()
    for number in range(5, 20):
        public(make_design, owner, f"lab-{number}")
    many = gallery()
    assert len(many) == len(few)
    assert not [query for query in many if '"document"' in query["sql"]]


def test_revisions_without_a_picture_get_one_once(make_design: Any, owner: Any) -> None:
    """Revisions saved before pictures existed are drawn on first show, and kept."""
    design = public(make_design, owner, "old")
    Revision.objects.filter(pk=design.current.pk).update(picture="")
    page = Client().get("/gallery/")
    stored = Revision.objects.get(pk=design.current.pk).picture
    assert stored.startswith("<svg")
    assert pictures(page) == [stored]


def test_hostile_titles_and_node_names_are_not_markup(make_design: Any, owner: Any) -> None:
    """A title and a node label of HTML stay text on the page and in the picture."""
    design = public(
        make_design,
        owner,
        "evil",
        title=HOSTILE,
        nodes=[node("host", "host"), node("red"), node("blue", label=HOSTILE)],
    )
    page = Client().get("/gallery/").content.decode()
    assert "<script>" not in page
    assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;/h3&gt;&lt;script&gt;" in page
    [svg] = pictures(Client().get("/gallery/"))
    assert "<script" not in svg
    assert svg == design.current.picture


def test_the_gallery_is_paginated(make_design: Any, owner: Any) -> None:
    total = views_sharing.GALLERY_PAGE + 3
    for number in range(total):
        public(make_design, owner, f"lab-{number:02d}")
    first = Client().get("/gallery/")
    second = Client().get("/gallery/?page=2")
    assert len(pictures(first)) == views_sharing.GALLERY_PAGE
    assert len(pictures(second)) == 3
    assert b'rel="next" href="?page=2"' in first.content
    assert b'rel="prev" href="?page=1"' in second.content
    assert Client().get("/gallery/?page=3").status_code == 404


def test_search_keeps_its_query_across_pages(make_design: Any, owner: Any) -> None:
    for number in range(views_sharing.GALLERY_PAGE + 1):
        public(make_design, owner, f"lab-{number:02d}")
    page = Client().get("/gallery/?q=lab")
    assert b'href="?q=lab&amp;page=2"' in page.content


def test_the_api_gallery_is_paginated(make_design: Any, owner: Any, settings: Any) -> None:
    from editor import api_sharing

    for number in range(3):
        public(make_design, owner, f"lab-{number}")
    client = Client()
    assert len(client.get("/api/gallery").json()) == 3
    assert client.get("/api/gallery?page=2").json() == []
    assert api_sharing.GALLERY_PAGE == 200
