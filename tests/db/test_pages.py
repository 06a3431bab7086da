"""The editor's pages through HTTP: dashboard, examples, import, design, revision, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from factories import changed, design_data, tutorial_data, tutorial_path

from editor import deployments, services
from editor.examples import example
from editor.models import Deployment, Design, Revision

pytestmark = pytest.mark.django_db

EXAMPLES = {
    "1-veth-pair": "tutorial-1-veth-pair",
    "2-bridge": "tutorial-2-bridge",
    "3-gateway-nat": "tutorial-3-gateway-nat",
    "4-port-forward": "tutorial-4-port-forward",
}
BAD_ADDRESS = {"links[0].endpoints[0].addresses[0]": "192.168.15.300/24"}


@pytest.fixture
def client(owner: Any) -> Client:
    """A browser logged in as ``owner`` (CSRF is tested apart, with ``session_client``)."""
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def stranger_client(stranger: Any) -> Client:
    client = Client()
    client.force_login(stranger)
    return client


def counts() -> tuple[int, int]:
    return Design.objects.count(), Revision.objects.count()


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


# Log in


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/"),
        ("GET", "/designs/1/"),
        ("GET", "/designs/1/revisions/1/"),
        ("GET", "/designs/1/export.json"),
        ("GET", "/examples/1-veth-pair/"),
        ("POST", "/designs/new"),
        ("POST", "/designs/import"),
        ("POST", "/designs/1/save"),
        ("POST", "/designs/1/delete"),
        ("POST", "/examples/1-veth-pair/copy"),
    ],
)
def test_pages_need_a_login(make_design, method, url):
    """Every page redirects an anonymous visitor to the login page and changes nothing."""
    make_design("lab")
    response = getattr(Client(), method.lower())(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"
    assert counts() == (1, 1)


def test_login_page_logs_in(owner, password):
    """The login page shows a form and a correct password leads to the dashboard."""
    client = Client()
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "olivia", "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_a_wrong_password_is_refused(owner):
    """A wrong password shows the form again with an error."""
    response = Client().post("/login/", {"username": "olivia", "password": "wrong"})
    assert response.status_code == 200
    assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content


# Dashboard


def test_dashboard_lists_own_designs_with_counts(client, make_design, stranger):
    """The dashboard lists the user's designs with node and link counts, never others'."""
    make_design("mine", links=[])
    make_design("theirs", owner=stranger)

    response = client.get("/")

    assert response.status_code == 200
    assert [design.name for design in response.context["designs"]] == ["mine"]
    html = response.content.decode()
    assert ">mine</a>" in html
    assert "theirs" not in html
    assert "<td>3</td>" in html
    assert "<td>0</td>" in html


def test_dashboard_shows_the_four_examples(client):
    """The dashboard offers every tutorial example, with its title and a copy button."""
    response = client.get("/")
    assert [item.slug for item in response.context["examples"]] == list(EXAMPLES)
    html = response.content.decode()
    for slug in EXAMPLES:
        assert f'action="/examples/{slug}/copy"' in html
        assert f'href="/examples/{slug}/"' in html
        assert tutorial_data(int(slug[0]))["title"] in html


def test_dashboard_without_designs_says_so(client):
    """A new user is told how to start."""
    assert b"No designs yet" in client.get("/").content


# Examples


@pytest.mark.parametrize(("slug", "name"), EXAMPLES.items())
def test_example_page_shows_the_document(client, slug, name):
    """An example's page shows its YAML and a copy button."""
    response = client.get(f"/examples/{slug}/")
    assert response.status_code == 200
    assert f"name: {name}" in response.content.decode()


@pytest.mark.parametrize(("slug", "name"), EXAMPLES.items())
def test_copy_example_creates_own_copy(client, owner, slug, name):
    """Copying an example creates the user's own design with the example's document."""
    response = client.post(f"/examples/{slug}/copy")

    design = Design.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/designs/{design.pk}/"
    assert (design.owner, design.name) == (owner, name)
    assert design.document == example(slug).design.to_data()
    assert design.current.message == f"copied from example {slug}"


def test_copying_an_example_twice_picks_a_free_name(client):
    """A second copy of the same example is named ``<name>-2``."""
    client.post("/examples/2-bridge/copy")
    client.post("/examples/2-bridge/copy")
    assert sorted(Design.objects.values_list("name", flat=True)) == [
        "tutorial-2-bridge",
        "tutorial-2-bridge-2",
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_example_is_404(client, method):
    """An example slug that does not exist is 404, and nothing is copied."""
    url = "/examples/9-nothing/" if method == "get" else "/examples/9-nothing/copy"
    assert getattr(client, method)(url).status_code == 404
    assert counts() == (0, 0)


def test_copy_needs_post(client):
    """GET on an action URL is refused."""
    assert client.get("/examples/1-veth-pair/copy").status_code == 405
    assert counts() == (0, 0)


# New design and import


def test_new_design_starts_with_a_host_only(client, owner):
    """The "new design" button creates an untitled design holding the host node alone."""
    response = client.post("/designs/new")
    design = Design.objects.get()
    assert response["Location"] == f"/designs/{design.pk}/"
    assert design.name == "untitled"
    assert design.document["nodes"] == [{"id": "host", "kind": "host"}]
    assert design.document.get("links", []) == []
    assert (design.node_count, design.link_count) == (1, 0)

    client.post("/designs/new")
    assert Design.objects.filter(owner=owner, name="untitled-2").exists()


@pytest.mark.parametrize(
    ("filename", "render"),
    [
        pytest.param("lab.yaml", lambda data: yaml.safe_dump(data), id="yaml"),
        pytest.param("lab.yml", lambda data: yaml.safe_dump(data), id="yml"),
        pytest.param("lab.json", lambda data: json.dumps(data), id="json"),
    ],
)
def test_import_a_valid_file(client, owner, filename, render):
    """Importing a valid file creates the design and opens it."""
    data = design_data(name="imported")
    response = client.post("/designs/import", {"file": upload(filename, render(data))})

    design = Design.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/designs/{design.pk}/"
    assert (design.owner, design.name, design.document) == (owner, "imported", data)
    assert design.current.message == f"imported from {filename}"


def test_import_of_a_taken_name_picks_a_free_one(client, make_design):
    """An import whose name the user already has gets ``<name>-2``."""
    make_design("lab")
    text = json.dumps(design_data(name="lab"))
    client.post("/designs/import", {"file": upload("lab.json", text)})
    assert sorted(Design.objects.values_list("name", flat=True)) == ["lab", "lab-2"]


def test_import_of_an_example_file(client):
    """The shipped example files import as they are."""
    path = tutorial_path(4)
    response = client.post("/designs/import", {"file": upload(path.name, path.read_bytes())})
    assert response.status_code == 302
    assert Design.objects.get().document == example("4-port-forward").design.to_data()


INVALID_FILES = {
    "bad address": (
        "lab.json",
        json.dumps(changed(design_data(), BAD_ADDRESS)),
        "links[0].endpoints[0].addresses[0]",
    ),
    "not YAML": ("lab.yaml", "nodes: [unclosed", "not valid YAML"),
    "not JSON": ("lab.json", "{nodes:", "not valid JSON"),
    "not UTF-8": ("lab.yaml", b"name: \xff\xfe", "not UTF-8"),
    "YAML alias": ("lab.yaml", "a: &x [1]\nb: *x\n", "aliases"),
    "a list": ("lab.yaml", "- 1\n- 2\n", "mapping"),
    "null": ("lab.yaml", "~\n", "mapping"),
}


@pytest.mark.parametrize(
    ("filename", "content", "shown"), INVALID_FILES.values(), ids=INVALID_FILES.keys()
)
def test_import_of_an_invalid_file_saves_nothing(client, filename, content, shown):
    """An invalid file answers 422 with its problems and saves nothing."""
    response = client.post("/designs/import", {"file": upload(filename, content)})
    assert response.status_code == 422
    html = response.content.decode()
    assert "was not imported" in html
    assert 'data-testid="problems"' in html
    assert shown in html
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "data",
    [pytest.param({}, id="no file"), pytest.param({"file": upload("lab.yaml", "")}, id="empty")],
)
def test_import_without_a_file_goes_back(client, data):
    """Submitting the import form without a file (or an empty one) returns to the dashboard."""
    response = client.post("/designs/import", data, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert b"Choose a file to import" in response.content
    assert counts() == (0, 0)


# Design page, saving, revisions


def test_design_page_shows_document_and_revisions(client, make_design, owner):
    """The design page shows the current YAML and links every revision."""
    design = make_design("lab")
    services.save_revision(
        design, author=owner, data=design_data(name="lab", title="Second"), message="retitle"
    )

    response = client.get(f"/designs/{design.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "title: Second" in html
    assert [revision.number for revision in response.context["revisions"]] == [2, 1]
    assert f'href="/designs/{design.pk}/revisions/1/"' in html
    assert f'href="/designs/{design.pk}/revisions/2/"' in html
    assert "retitle" in html


def test_saving_the_form_creates_a_revision(client, make_design):
    """Posting valid YAML saves revision 2 with the message, and goes back to the page."""
    design = make_design("lab")
    text = yaml.safe_dump(design_data(name="lab", title="From the form"))

    response = client.post(
        f"/designs/{design.pk}/save", {"document": text, "message": "edited"}, follow=True
    )

    assert response.redirect_chain == [(f"/designs/{design.pk}/", 302)]
    assert b"Saved revision 2." in response.content
    design.refresh_from_db()
    assert (design.current.number, design.current.message) == (2, "edited")
    assert design.title == "From the form"


INVALID_FORMS = {
    "not YAML": ({"document": "nodes: [unclosed"}, 422, "not valid YAML"),
    "unknown field": (
        {"document": yaml.safe_dump({**design_data(name="lab"), "colour": "red"})},
        422,
        "colour",
    ),
    "a list": ({"document": "- 1"}, 422, "mapping"),
    # The page's own form cannot send these (required, maxlength); other clients get a 400.
    "no document": ({"message": "nothing"}, 400, ""),
    "message too long": ({"document": "name: lab", "message": "x" * 501}, 400, ""),
}


@pytest.mark.parametrize(
    ("form", "status", "shown"), INVALID_FORMS.values(), ids=INVALID_FORMS.keys()
)
def test_saving_an_invalid_form_saves_nothing(client, make_design, form, status, shown):
    """A bad form shows the problems on the design page and saves no revision."""
    design = make_design("lab")
    response = client.post(f"/designs/{design.pk}/save", form)
    assert response.status_code == status
    assert shown in response.content.decode()
    assert counts() == (1, 1)
    design.refresh_from_db()
    assert design.document == design_data(name="lab")


def test_saving_keeps_the_typed_text_after_a_problem(client, make_design):
    """After a refused save the form still holds what the user typed."""
    design = make_design("lab")
    text = "name: Not A Slug\ncolour: red"
    response = client.post(f"/designs/{design.pk}/save", {"document": text})
    assert response.status_code == 422
    assert "name: Not A Slug" in response.content.decode()


def test_saving_a_form_with_problems_keeps_a_draft(client, make_design):
    """A document that reads but breaks rules is saved as a draft revision, and says so."""
    design = make_design("lab")
    text = yaml.safe_dump(changed(design_data(name="lab"), BAD_ADDRESS))
    response = client.post(f"/designs/{design.pk}/save", {"document": text}, follow=True)
    assert response.status_code == 200
    assert "Saved revision 2 as a draft: it has 1 problem" in response.content.decode()
    design.refresh_from_db()
    assert (design.current.number, design.current.draft) == (2, True)


def test_revision_page_shows_that_revision(client, make_design, owner):
    """A revision's page shows its own document, read-only."""
    design = make_design("lab")
    services.save_revision(design, author=owner, data=design_data(name="lab", title="Later"))

    response = client.get(f"/designs/{design.pk}/revisions/1/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "revision 1, read-only" in html
    assert "title: Later" not in html
    assert "title: Later" in client.get(f"/designs/{design.pk}/revisions/2/").content.decode()


def test_missing_revision_page_is_404(client, make_design):
    """A revision number the design does not have is 404."""
    design = make_design("lab")
    assert client.get(f"/designs/{design.pk}/revisions/2/").status_code == 404


@pytest.mark.parametrize(
    ("text_format", "content_type", "parse"),
    [
        ("json", "application/json", json.loads),
        ("yaml", "application/yaml", yaml.safe_load),
    ],
)
def test_export_downloads_the_document(client, make_design, text_format, content_type, parse):
    """Export answers the current document as an attachment named after the design."""
    design = make_design("lab")
    response = client.get(f"/designs/{design.pk}/export.{text_format}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="lab.{text_format}"'
    assert parse(response.content.decode()) == design.document


def test_export_as_a_shell_script(client, make_design):
    """The design's page offers its saved revision as the bash script the engine would run."""
    design = make_design("lab")
    response = client.get(f"/designs/{design.pk}/export.sh")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/x-shellscript"
    assert response["Content-Disposition"] == 'attachment; filename="lab.sh"'
    script = response.content.decode()
    assert script.startswith("#!/usr/bin/env bash")
    assert "ip netns add" in script or "ip netns" in script


def test_export_in_an_unknown_format_is_404(client, make_design):
    """Only json and yaml are offered."""
    design = make_design("lab")
    assert client.get(f"/designs/{design.pk}/export.xml").status_code == 404


def test_delete_removes_the_design(client, make_design):
    """Deleting goes back to the dashboard; the design's page is then 404."""
    design = make_design("lab")
    response = client.post(f"/designs/{design.pk}/delete", follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert b"Deleted lab." in response.content
    assert counts() == (0, 0)
    assert client.get(f"/designs/{design.pk}/").status_code == 404


def test_delete_needs_post(client, make_design):
    """GET on the delete URL is refused and deletes nothing."""
    design = make_design("lab")
    assert client.get(f"/designs/{design.pk}/delete").status_code == 405
    assert counts() == (1, 1)


# Another user's design


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/designs/{id}/"),
        ("get", "/designs/{id}/revisions/1/"),
        ("get", "/designs/{id}/export.json"),
        ("get", "/designs/{id}/export.yaml"),
        ("post", "/designs/{id}/save"),
        ("post", "/designs/{id}/delete"),
    ],
)
def test_another_users_design_is_404(stranger_client, make_design, method, url):
    """Another user's design answers like a missing one, and is left unchanged."""
    design = make_design("lab")
    missing = design.pk + 1000
    data = {"document": yaml.safe_dump(design_data(name="lab", title="hacked"))}

    theirs = getattr(stranger_client, method)(url.format(id=design.pk), data)
    nothing = getattr(stranger_client, method)(url.format(id=missing), data)

    assert theirs.status_code == nothing.status_code == 404
    assert counts() == (1, 1)
    design.refresh_from_db()
    assert design.title == ""


# CSRF on pages


@pytest.mark.parametrize(
    "url", ["/designs/new", "/examples/1-veth-pair/copy", "/designs/{id}/delete"]
)
def test_page_posts_need_the_csrf_token(session_client, csrf_token, make_design, url):
    """Page forms refuse a POST without the CSRF token (403) and accept it with the token."""
    design = make_design("lab")
    url = url.format(id=design.pk)
    before = counts()
    assert session_client.post(url).status_code == 403
    assert counts() == before
    assert session_client.post(url, {"csrfmiddlewaretoken": csrf_token}).status_code == 302


def test_dashboard_marks_the_designs_whose_lab_is_running(client, owner, make_design):
    """A design with a deployment in state running is marked; a queued or stopped one is not."""
    running, queued, stopped, _idle = (make_design(name) for name in ("up", "soon", "gone", "idle"))
    deployments.request_deploy(running, actor=owner)
    deployments.request_deploy(queued, actor=owner)
    deployments.request_deploy(stopped, actor=owner)
    Deployment.objects.filter(design=running).update(state=Deployment.State.RUNNING)
    Deployment.objects.filter(design=stopped).update(state=Deployment.State.STOPPED)

    response = client.get("/")

    marked = {design.name: design.running for design in response.context["designs"]}
    assert marked == {"up": True, "soon": False, "gone": False, "idle": False}
    html = response.content.decode()
    assert html.count('data-testid="running"') == 1
    row = html[html.index(">up</a>") : html.index("</tr>", html.index(">up</a>"))]
    assert 'data-testid="running"' in row


def test_dashboard_queries_do_not_grow_with_the_designs(
    client, owner, stranger, make_design, settings
):
    """The running marker costs no query per design, in the owner's list and in the list
    of designs shared with a collaborator."""
    settings.NETLAB_MAX_RUNNING_PER_USER = 10
    collaborator = Client()
    collaborator.force_login(stranger)

    def add_running_design(name: str) -> None:
        design = make_design(name)
        services.set_collaborator(design, actor=owner, user=stranger, role="view")
        deployments.request_deploy(design, actor=owner)
        Deployment.objects.filter(design=design).update(state=Deployment.State.RUNNING)

    def queries(reader: Client) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = reader.get("/")
        assert response.status_code == 200
        return len(captured)

    add_running_design("first")
    few = (queries(client), queries(collaborator))
    for number in range(5):
        add_running_design(f"more-{number}")
    assert (queries(client), queries(collaborator)) == few
    assert collaborator.get("/").content.decode().count('data-testid="running"') == 6


def test_every_page_links_the_favicon_and_favicon_ico_leads_to_it(client):
    """The pages link netlab's own SVG icon; /favicon.ico (asked by pages that link none)
    redirects to the same file."""
    html = client.get("/").content.decode()
    assert '<link rel="icon" type="image/svg+xml" href="/static/netlab/favicon.svg"' in html
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/netlab/favicon.svg"
    icon = Path(__file__).resolve().parents[2] / "static" / "netlab" / "favicon.svg"
    assert icon.read_text().lstrip().startswith("<svg")
