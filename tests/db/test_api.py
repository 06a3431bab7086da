"""The JSON API under /api/, through HTTP: designs, revisions, validation, auth, docs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from factories import changed, design_data

from editor import services
from editor.models import Design, Revision

pytestmark = pytest.mark.django_db

DESIGN_KEYS = {
    "id",
    "name",
    "title",
    "owner",
    "updated",
    "revision",
    "document",
    "visibility",
    "fork_count",
    "forked_from",
    "draft",
    "problems",
}
BAD_ADDRESS = {"links[0].endpoints[0].addresses[0]": "192.168.15.300/24"}


def post_json(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def put_json(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.put(url, json.dumps(data), content_type="application/json", **extra)


def counts() -> tuple[int, int]:
    return Design.objects.count(), Revision.objects.count()


# Create, read, update, delete


def test_create_answers_201_with_the_design(token_client, owner):
    """POST /api/designs creates the design and answers 201 with its current state."""
    data = design_data(name="lab", title="A lab")
    response = post_json(token_client, "/api/designs", data)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == DESIGN_KEYS
    design = Design.objects.get()
    assert body["id"] == design.pk
    assert (body["name"], body["title"], body["owner"]) == ("lab", "A lab", owner.username)
    assert body["revision"] == 1
    assert body["document"] == data
    assert body["updated"]


def test_create_takes_a_revision_message(token_client):
    """The ``message`` query parameter becomes the first revision's message."""
    response = post_json(token_client, "/api/designs?message=first%20draft", design_data())
    assert response.status_code == 201
    assert Revision.objects.get().message == "first draft"


def test_create_refuses_a_taken_name(token_client, make_design):
    """A second design of the same name for the same user answers 422 on ``name``."""
    make_design("lab")
    before = counts()
    response = post_json(token_client, "/api/designs", design_data(name="lab"))
    assert response.status_code == 422
    assert [problem["path"] for problem in response.json()["problems"]] == ["name"]
    assert counts() == before


def test_read_answers_the_design(token_client, make_design, owner):
    """GET /api/designs/{id} answers the same shape as create, with the current document."""
    design = make_design("lab")
    response = token_client.get(f"/api/designs/{design.pk}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DESIGN_KEYS
    assert (body["id"], body["name"], body["owner"]) == (design.pk, "lab", owner.username)
    assert body["document"] == design.document


def test_list_answers_own_designs_with_counts(token_client, make_design, stranger):
    """GET /api/designs lists the user's designs only, newest change first, with counts."""
    make_design("first")
    make_design("second", links=[])
    make_design("theirs", owner=stranger)

    response = token_client.get("/api/designs")

    assert response.status_code == 200
    rows = response.json()
    assert [(row["name"], row["nodes"], row["links"]) for row in rows] == [
        ("second", 3, 0),
        ("first", 3, 1),
    ]
    assert {row["owner"] for row in rows} == {"olivia"}


def test_update_makes_a_new_revision(token_client, make_design):
    """PUT /api/designs/{id} saves the document as revision n+1 and answers the design."""
    design = make_design("lab")
    response = put_json(
        token_client,
        f"/api/designs/{design.pk}?message=retitled",
        design_data(name="lab", title="Retitled"),
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DESIGN_KEYS
    assert (body["revision"], body["title"]) == (2, "Retitled")
    assert body["document"]["title"] == "Retitled"
    assert list(design.revisions.values_list("number", "message")) == [
        (2, "retitled"),
        (1, "created"),
    ]


def test_update_renames(token_client, make_design):
    """A PUT whose document has another name renames the design."""
    design = make_design("lab")
    response = put_json(token_client, f"/api/designs/{design.pk}", design_data(name="renamed"))
    assert response.status_code == 200
    assert response.json()["name"] == "renamed"
    design.refresh_from_db()
    assert design.name == "renamed"


def test_update_cannot_take_a_name_in_use(token_client, make_design):
    """A PUT renaming the design onto another of the user's designs answers 422 on ``name``."""
    make_design("taken")
    design = make_design("lab")
    response = put_json(token_client, f"/api/designs/{design.pk}", design_data(name="taken"))
    assert response.status_code == 422
    assert [problem["path"] for problem in response.json()["problems"]] == ["name"]
    assert counts() == (2, 2)


def test_update_with_an_invalid_document_saves_nothing(token_client, make_design):
    """An invalid PUT answers 422 with the problems; the design keeps its revision."""
    design = make_design("lab")
    before = counts()
    response = put_json(
        token_client, f"/api/designs/{design.pk}", changed(design_data(name="lab"), BAD_ADDRESS)
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "links[0].endpoints[0].addresses[0]"
    assert counts() == before
    assert token_client.get(f"/api/designs/{design.pk}").json()["revision"] == 1


def test_delete_answers_204_then_404(token_client, make_design):
    """DELETE removes the design and its history; the id then answers 404."""
    design = make_design("lab")
    url = f"/api/designs/{design.pk}"

    response = token_client.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert counts() == (0, 0)
    assert token_client.get(url).status_code == 404
    assert token_client.delete(url).status_code == 404


# Revisions


def test_revisions_list_newest_first(token_client, make_design, owner):
    """GET .../revisions lists every revision without documents, newest first."""
    design = make_design("lab")
    services.save_revision(
        design, author=owner, data=design_data(name="lab", title="2"), message="second"
    )

    response = token_client.get(f"/api/designs/{design.pk}/revisions")

    assert response.status_code == 200
    rows = response.json()
    assert [(row["number"], row["message"], row["author"]) for row in rows] == [
        (2, "second", "olivia"),
        (1, "created", "olivia"),
    ]
    assert all(set(row) == {"number", "author", "created", "message", "draft"} for row in rows)


def test_revision_read_answers_its_document(token_client, make_design, owner):
    """GET .../revisions/{n} answers that revision's document, not the current one."""
    design = make_design("lab")
    services.save_revision(design, author=owner, data=design_data(name="lab", title="Later"))

    response = token_client.get(f"/api/designs/{design.pk}/revisions/1")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == 1
    assert body["document"] == design_data(name="lab")


def test_missing_revision_is_404(token_client, make_design):
    """A revision number the design does not have answers 404."""
    design = make_design("lab")
    response = token_client.get(f"/api/designs/{design.pk}/revisions/7")
    assert response.status_code == 404
    assert response.json()["detail"] == "no such revision"


# Validation and refused bodies


def test_validate_a_valid_document(token_client):
    """POST /api/validate answers valid, no problems and no warnings for a good document."""
    response = post_json(token_client, "/api/validate", design_data())
    assert response.status_code == 200
    assert response.json() == {"valid": True, "problems": [], "warnings": []}
    assert counts() == (0, 0)


INVALID_DOCUMENTS = {
    "bad address": (BAD_ADDRESS, "links[0].endpoints[0].addresses[0]"),
    "unknown node": ({"links[0].endpoints[1].node": "green"}, "links[0].endpoints[1].node"),
    "interface too long": (
        {"links[0].endpoints[0].interface": "a-very-long-interface"},
        "links[0].endpoints[0].interface",
    ),
    "bad design name": ({"name": "Not A Slug"}, "name"),
    "unknown field": ({"colour": "red"}, "colour"),
    "port as text": (
        {"nodes[0].services": [{"kind": "http", "port": "80"}]},
        "nodes[0].services[0].port",
    ),
}


@pytest.mark.parametrize(
    ("changes", "path"), INVALID_DOCUMENTS.values(), ids=INVALID_DOCUMENTS.keys()
)
def test_validate_lists_problems_with_paths(token_client, changes, path):
    """POST /api/validate answers 200, valid false and each problem with its path, its
    message, its element and its sentence."""
    response = post_json(token_client, "/api/validate", changed(design_data(), changes))
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert path in [problem["path"] for problem in body["problems"]]
    fields = {"path", "message", "element", "sentence"}
    assert all(set(problem) == fields for problem in body["problems"])


@pytest.mark.parametrize(
    ("changes", "path"), INVALID_DOCUMENTS.values(), ids=INVALID_DOCUMENTS.keys()
)
def test_create_refuses_invalid_documents_with_422(token_client, changes, path):
    """An invalid document answers 422 with the problem list and saves nothing."""
    response = post_json(token_client, "/api/designs", changed(design_data(), changes))
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "the design document is invalid"
    assert path in [problem["path"] for problem in body["problems"]]
    assert counts() == (0, 0)


def test_invalid_address_message_names_the_value(token_client):
    """The problem says what is wrong, quoting the value, and names its link as the canvas
    does (its ends' nodes) in a sentence."""
    response = post_json(token_client, "/api/designs", changed(design_data(), BAD_ADDRESS))
    assert response.json()["problems"] == [
        {
            "path": "links[0].endpoints[0].addresses[0]",
            "message": "'192.168.15.300/24': 300 is not a valid byte",
            "element": "red — blue",
            "sentence": "red — blue: '192.168.15.300/24': 300 is not a valid byte",
        }
    ]


def test_validate_answers_sentences_naming_nodes_and_links(token_client):
    """POST /api/validate names each problem's node (its id) or link; a duplicate node id
    is one of them, at the second node's id."""
    data = changed(design_data(), BAD_ADDRESS)
    data["nodes"].append({"id": "red", "kind": "namespace"})
    response = post_json(token_client, "/api/validate", data)
    assert response.status_code == 200
    sentences = {problem["path"]: problem["sentence"] for problem in response.json()["problems"]}
    duplicate = f"nodes[{len(data['nodes']) - 1}].id"
    address = "links[0].endpoints[0].addresses[0]"
    assert sentences == {
        duplicate: "red: duplicate node id 'red': another node already has it",
        address: "red — blue: '192.168.15.300/24': 300 is not a valid byte",
    }


DEEP = 100_000


def with_title(title: bytes) -> bytes:
    """A valid document's JSON with ``title`` (raw JSON text) added as its last field."""
    return json.dumps(design_data())[:-1].encode() + b', "title": ' + title + b"}"


# body: (status of POST /api/designs, status of POST /api/validate). Text that is not JSON
# is a bad request; JSON too deep to read is refused as a document; other JSON that is not
# a design is a problem to report.
REFUSED_BODIES = {
    "not JSON": (b"{name: lab", 400, 400),
    "truncated JSON": (b'{"name": "lab"', 400, 400),
    "not UTF-8": (b'{"name": "\xff\xfe"}', 400, 400),
    "empty body": (b"", 422, 200),
    "JSON array": (b"[1, 2, 3]", 422, 200),
    "JSON string": (b'"lab"', 422, 200),
    "JSON null": (b"null", 422, 200),
    "deeply nested arrays": (b"[" * DEEP + b"]" * DEEP, 422, 422),
    "deeply nested objects": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, 422, 422),
    "unclosed deep arrays": (b"[" * DEEP, 422, 422),
    "deep inside a document": (with_title(b"[" * DEEP + b"]" * DEEP), 422, 422),
    "nested title": (with_title(b"[" * 500 + b"]" * 500), 422, 200),
}


@pytest.mark.parametrize(
    ("body", "create_status", "validate_status"),
    REFUSED_BODIES.values(),
    ids=REFUSED_BODIES.keys(),
)
def test_refused_body_is_a_client_error(token_client, body, create_status, validate_status):
    """A body that is not a design document is answered with problems, never a 500.

    Creating answers 400 (not JSON) or 422; validating answers 200 with the problems
    whenever the body could be read as JSON at all.
    """
    for url, status in (("/api/designs", create_status), ("/api/validate", validate_status)):
        response = token_client.post(url, body, content_type="application/json")
        assert response.status_code == status, url
        answer = response.json()
        assert answer["problems"], url
        fields = {"path", "message", "element", "sentence"}
        assert all(set(problem) == fields for problem in answer["problems"])
    assert counts() == (0, 0)


def test_refused_put_body_saves_nothing(token_client, make_design):
    """A PUT body that is not JSON answers 400 and the design keeps its revision."""
    design = make_design("lab")
    response = token_client.put(
        f"/api/designs/{design.pk}", b"not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert counts() == (1, 1)


# Permissions


@pytest.fixture
def stranger_client(stranger):
    """A client with a token of ``stranger``."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {services.create_token(user=stranger)}")


def request(client: Client, method: str, url: str) -> Any:
    if method == "PUT":
        return put_json(client, url, design_data(name="lab", title="changed"))
    return getattr(client, method.lower())(url)


ENDPOINTS = [
    pytest.param("GET", "/api/designs/{id}", 200, id="read"),
    pytest.param("PUT", "/api/designs/{id}", 200, id="update"),
    pytest.param("DELETE", "/api/designs/{id}", 204, id="delete"),
    pytest.param("GET", "/api/designs/{id}/revisions", 200, id="revisions"),
    pytest.param("GET", "/api/designs/{id}/revisions/1", 200, id="revision"),
]


@pytest.mark.parametrize(("method", "url", "status"), ENDPOINTS)
def test_owner_may(token_client, make_design, method, url, status):
    """The owner reads, changes, deletes and reads the history of their design."""
    design = make_design("lab")
    assert request(token_client, method, url.format(id=design.pk)).status_code == status


@pytest.mark.parametrize(("method", "url", "status"), ENDPOINTS)
def test_other_user_sees_a_missing_design(stranger_client, make_design, method, url, status):
    """Another user's design answers 404 with exactly the body of an id that does not exist."""
    design = make_design("lab")
    missing = Design.objects.order_by("-pk").first().pk + 1000

    theirs = request(stranger_client, method, url.format(id=design.pk))
    nothing = request(stranger_client, method, url.format(id=missing))

    assert theirs.status_code == nothing.status_code == 404
    assert theirs.content == nothing.content
    assert theirs.json() == {"detail": "no such design"}
    assert counts() == (1, 1)


@pytest.mark.parametrize(("method", "url", "status"), ENDPOINTS)
def test_anonymous_is_401(make_design, method, url, status):
    """Without a token or a session every design endpoint answers 401 and changes nothing."""
    design = make_design("lab")
    response = request(Client(), method, url.format(id=design.pk))
    assert response.status_code == 401
    assert counts() == (1, 1)


@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/api/designs"), ("POST", "/api/designs"), ("POST", "/api/validate")],
)
def test_anonymous_collection_is_401(method, url):
    """Listing, creating and validating need a user too."""
    client = Client()
    response = post_json(client, url, design_data()) if method == "POST" else client.get(url)
    assert response.status_code == 401
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "url",
    [
        "/api/designs/" + "9" * 30,
        "/api/designs/-1",
        "/api/designs/0",
        "/api/designs/" + "9" * 30 + "/revisions",
        "/api/designs/{id}/revisions/" + "9" * 30,
        "/api/designs/{id}/revisions/-1",
    ],
)
def test_out_of_range_ids_are_404(token_client, make_design, url):
    """Ids and numbers no row can have (negative, beyond SQLite's integers) answer 404."""
    design = make_design("lab")
    assert token_client.get(url.format(id=design.pk)).status_code == 404


def test_stranger_lists_none_of_owners_designs(stranger_client, make_design):
    """The list of another user holds none of the owner's designs."""
    make_design("lab")
    assert stranger_client.get("/api/designs").json() == []


# Authentication


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer nl_not-a-token", id="unknown token"),
        pytest.param("Bearer ", id="empty token"),
        pytest.param("Token abc", id="other scheme"),
        pytest.param("Bearer " + "x" * 5000, id="huge token"),
    ],
)
def test_bad_token_is_401(make_design, header):
    """A token that is not one of ours answers 401."""
    make_design("lab")
    client = Client(HTTP_AUTHORIZATION=header)
    assert client.get("/api/designs").status_code == 401
    assert post_json(client, "/api/designs", design_data(name="new")).status_code == 401
    assert counts() == (1, 1)


def test_token_of_inactive_user_is_401(owner):
    """Deactivating a user disables their tokens."""
    key = services.create_token(user=owner)
    owner.is_active = False
    owner.save()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/designs").status_code == 401


def test_token_requests_need_no_csrf_token(owner):
    """Bearer-token writes pass even on a client that enforces CSRF checks."""
    key = services.create_token(user=owner)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert post_json(client, "/api/designs", design_data()).status_code == 201


def test_session_reads_without_csrf_token(session_client, make_design):
    """A logged-in browser session may read without a CSRF token."""
    design = make_design("lab")
    assert session_client.get("/api/designs").status_code == 200
    assert session_client.get(f"/api/designs/{design.pk}").status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_session_writes_need_the_csrf_token(session_client, csrf_token, make_design, method):
    """A session write without the CSRF token answers 403 and changes nothing; with it, works."""
    design = make_design("lab")
    url = "/api/designs" if method == "POST" else f"/api/designs/{design.pk}"
    data = design_data(name="new" if method == "POST" else "lab", title="changed")

    def send(**headers: Any) -> Any:
        if method == "DELETE":
            return session_client.delete(url, **headers)
        send_json = post_json if method == "POST" else put_json
        return send_json(session_client, url, data, **headers)

    refused = send()
    assert refused.status_code == 403
    assert counts() == (1, 1)
    design.refresh_from_db()
    assert (design.title, design.current.number) == ("", 1)

    wrong = send(HTTP_X_CSRFTOKEN="x" * 32)
    assert wrong.status_code == 403
    assert counts() == (1, 1)

    accepted = send(HTTP_X_CSRFTOKEN=csrf_token)
    assert accepted.status_code == {"POST": 201, "PUT": 200, "DELETE": 204}[method]


# Documentation and schema


def test_swagger_ui_is_served_from_local_static_files():
    """/api/docs is Swagger UI whose scripts and styles come from this site, not a CDN."""
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", html)
    assert external == []
    # Word boundaries: the page carries random tokens, which may hold the letters "cdn".
    assert not re.search(r"\bcdn\b|jsdelivr|unpkg|cdnjs", html, re.IGNORECASE)
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"):
        assert finders.find(f"ninja/{name}"), name


def test_openapi_lists_the_paths():
    """/api/openapi.json describes every endpoint of the API."""
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/designs",
        "/api/designs/{design_id}",
        "/api/designs/{design_id}/revisions",
        "/api/designs/{design_id}/revisions/{number}",
        "/api/validate",
        "/api/schema",
    } <= set(paths)
    assert {"get", "post"} <= set(paths["/api/designs"])
    assert {"get", "put", "delete"} <= set(paths["/api/designs/{design_id}"])


def test_schema_is_public_json_schema():
    """GET /api/schema answers the document's JSON Schema without authentication."""
    response = Client().get("/api/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["title"] == "netlab/v1 design document"
    assert {"name", "nodes", "links"} <= set(schema["properties"])
