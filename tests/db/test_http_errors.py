"""Bad requests answer a 4xx that says what is wrong, never a 500: JSON from the API, a page
from the site. Bodies over ``NETLAB_MAX_BODY_BYTES``, integers no row can have, "²" where a
number goes, a restore onto a taken name, numbers and text the core refuses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from factories import client_of, design_data

from editor import services
from editor.models import Design, Revision

pytestmark = pytest.mark.django_db

HUGE = "39386771260925183713414946563817472"
MIB = 1024 * 1024


@pytest.fixture
def client(owner: Any) -> Client:
    """The owner's session client, answering 500s as responses instead of raising them."""
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    return client


@pytest.fixture
def design(make_design: Any, owner: Any) -> Design:
    """A design with two revisions, so that its history shows a diff."""
    design = make_design("lab")
    services.save_revision(design, author=owner, data=design_data(name="lab", title="two"))
    return design


def padded(size: int) -> bytes:
    """A valid document of exactly ``size`` bytes: JSON padded with spaces."""
    text = json.dumps(design_data(name="big")).encode()
    return text + b" " * (size - len(text))


# Bodies


def test_the_body_limit_is_one_setting(settings: Any) -> None:
    """The README's 4 MiB is ``NETLAB_MAX_BODY_BYTES``, and Django's own limit follows it."""
    assert settings.NETLAB_MAX_BODY_BYTES == 4 * MIB
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == settings.NETLAB_MAX_BODY_BYTES


def test_a_body_under_the_limit_is_read(client: Client) -> None:
    """A 3 MiB document (over Django's default 2.5 MiB) is read and saved."""
    response = client.post("/api/designs", padded(3 * MIB), content_type="application/json")
    assert response.status_code == 201
    assert Design.objects.filter(name="big").exists()


@pytest.mark.parametrize("url", ["/api/designs", "/api/validate"])
def test_a_body_over_the_limit_answers_413_in_json(client: Client, url: str) -> None:
    """One byte over the limit answers 413 with a sentence, and nothing is saved."""
    response = client.post(url, padded(4 * MIB + 1), content_type="application/json")
    assert response.status_code == 413
    assert "larger than this server accepts" in response.json()["detail"]
    assert not Design.objects.filter(name="big").exists()


def test_a_page_body_over_the_limit_answers_413_with_a_page(client: Client, design: Design):
    """The editor's save form over the limit answers a 413 page that says why."""
    response = client.post(
        f"/designs/{design.pk}/save", {"document": "#" * (4 * MIB + 1), "message": ""}
    )
    assert response.status_code == 413
    assert b"larger than this server accepts" in response.content
    assert design.revisions.count() == 2


def test_a_body_too_large_to_read_answers_413(client: Client, settings: Any) -> None:
    """Where Django itself refuses to read a body (no size announced to check), 413 too."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/api/validate", padded(2000), content_type="application/json")
    assert response.status_code == 413
    assert "larger than this server accepts" in response.json()["detail"]


# Integers in paths and query strings


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        pytest.param(f"head={HUGE}&base=-523", 400, "query.", id="huge-and-negative"),
        pytest.param("head=2&base=0", 400, "query.base", id="zero"),
        pytest.param("head=2&base=\u00b2", 400, "query.base", id="superscript-two"),
        pytest.param("head=2&base=1.5", 400, "query.base", id="fraction"),
        pytest.param("head=2", 400, "query.base", id="missing"),
        pytest.param("head=2&base=9", 404, "", id="no-such-revision"),
    ],
)
def test_api_diff_refuses_bad_numbers(
    client: Client, design: Design, query: str, status: int, parameter: str
) -> None:
    """The diff of ``GET /api/designs/{id}/diff`` names the parameter it cannot read."""
    response = client.get(f"/api/designs/{design.pk}/diff?{query}")
    assert response.status_code == status
    body = response.json()
    assert body["detail"]
    if parameter:
        assert any(problem["path"].startswith(parameter) for problem in body["problems"])


def test_api_diff_of_two_revisions(client: Client, design: Design) -> None:
    """In range, the diff still answers."""
    response = client.get(f"/api/designs/{design.pk}/diff?base=1&head=2")
    assert response.status_code == 200
    assert response.json()["design"] == ["title"]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/designs/{HUGE}",
        "/api/designs/-1",
        "/api/designs/{id}/revisions/" + HUGE,
        "/api/designs/{id}/revisions/" + HUGE + "/restore",
        f"/api/designs/{HUGE}/sharing",
    ],
)
def test_api_paths_no_row_can_have_are_404(client: Client, design: Design, path: str) -> None:
    """An id or number out of the database's range names nothing: 404, with the reason."""
    url = path.format(id=design.pk)
    response = client.post(url) if url.endswith("restore") else client.get(url)
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        pytest.param("head=\u00b2", 400, id="superscript-two"),
        pytest.param(f"head={HUGE}", 400, id="huge"),
        pytest.param("base=-1", 400, id="negative"),
        pytest.param("head=%D9%A1", 400, id="arabic-indic-one"),
        pytest.param("head=9", 404, id="no-such-revision"),
        pytest.param("head=1&base=2", 200, id="fine"),
    ],
)
def test_history_page_refuses_bad_numbers(
    client: Client, design: Design, query: str, status: int
) -> None:
    """The history page names the parameter it cannot read in a 400 page, never a 500."""
    response = client.get(f"/designs/{design.pk}/history?{query}")
    assert response.status_code == status
    if status == 400:
        assert b"must be a whole number" in response.content


@pytest.mark.parametrize(
    ("query", "status"),
    [("page=\u00b2", 400), (f"page={HUGE}", 400), ("page=0", 400), ("page=2", 404)],
)
def test_gallery_page_refuses_bad_numbers(client: Client, query: str, status: int) -> None:
    """The gallery's ``page`` is read like every other number."""
    assert client.get(f"/gallery/?{query}").status_code == status


def test_api_gallery_refuses_bad_pages(client: Client) -> None:
    response = client.get(f"/api/gallery?page={HUGE}")
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "query.page"


# Restoring onto a taken name


def test_restore_onto_a_taken_name_says_so_on_the_page(
    client: Client, make_design: Any, owner: Any
) -> None:
    """Restoring a revision whose old name another design took answers 422 with a message."""
    design = make_design("first")
    services.save_revision(design, author=owner, data=design_data(name="renamed"))
    make_design("first")
    response = client.post(f"/designs/{design.pk}/revisions/1/restore")
    assert response.status_code == 422
    assert b"cannot be restored" in response.content
    assert b"you already have a design named" in response.content
    assert design.revisions.count() == 2


def test_restore_onto_a_taken_name_through_the_api(
    client: Client, make_design: Any, owner: Any
) -> None:
    design = make_design("first")
    services.save_revision(design, author=owner, data=design_data(name="renamed"))
    make_design("first")
    response = client.post(f"/api/designs/{design.pk}/revisions/1/restore")
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "name"


# What the core refuses, end to end


def with_position(x: str) -> bytes:
    return (
        b'{"format": "netlab/v1", "name": "odd", "nodes": [{"id": "host", "kind": "host", '
        b'"position": {"x": ' + x.encode() + b', "y": 1}}]}'
    )


ODD_BODIES = {
    "5000-digit integer": with_position("9" * 5000),
    "lone surrogate in the title": (
        b'{"format": "netlab/v1", "name": "odd", "title": "\\ud800", '
        b'"nodes": [{"id": "host", "kind": "host"}]}'
    ),
    "lone surrogate in a node id": (
        b'{"format": "netlab/v1", "name": "odd", "nodes": [{"id": "\\udfff", "kind": "host"}]}'
    ),
}


@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=ODD_BODIES.keys())
def test_documents_the_core_refuses_answer_4xx(client: Client, body: bytes) -> None:
    """Numbers past Python's int limit and lone surrogates are refused, listed, not a 500."""
    created = client.post("/api/designs", body, content_type="application/json")
    assert created.status_code in (400, 422)
    assert created.json()["problems"]
    checked = client.post("/api/validate", body, content_type="application/json")
    assert checked.status_code in (200, 400, 422)
    if checked.status_code == 200:
        assert checked.json()["valid"] is False
    assert not Revision.objects.filter(design__name="odd").exists()


def test_a_stranger_sees_no_more_through_errors(stranger: Any, design: Design) -> None:
    """A refused parameter on a design one may not read still says nothing of the design."""
    response = client_of(stranger).get(f"/api/designs/{design.pk}/diff?base=1&head=2")
    assert response.status_code == 404
