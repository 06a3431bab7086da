"""The Django admin of designs, revisions and API tokens (``admin_client`` is a superuser)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from editor import services
from editor.models import ApiToken, Design, Revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def design(make_design: Any, owner: Any) -> Design:
    design = make_design("lab")
    services.create_token(user=owner, name="ci")
    return design


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/editor/design/",
        "/admin/editor/revision/",
        "/admin/editor/apitoken/",
        "/admin/editor/design/?q=lab",
        "/admin/editor/revision/?design__owner__id__exact=1",
    ],
)
def test_changelists_load(admin_client, design, url):
    """The admin's index and the editor's change lists load for a superuser."""
    response = admin_client.get(url)
    assert response.status_code == 200


def test_design_changelist_lists_designs(admin_client, design):
    """The design change list shows the design with its owner."""
    html = admin_client.get("/admin/editor/design/").content.decode()
    assert "lab" in html
    assert "olivia" in html


def test_design_page_shows_revisions_read_only(admin_client, design):
    """A design's admin page loads, lists its revisions and offers no field to change."""
    response = admin_client.get(f"/admin/editor/design/{design.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="name"' not in html
    assert "created" in html


def test_designs_cannot_be_added(admin_client):
    """Designs are created through the editor, never the admin."""
    assert admin_client.get("/admin/editor/design/add/").status_code == 403


def test_revision_page_is_read_only(admin_client, design):
    """A revision opens for viewing only."""
    revision = design.current
    response = admin_client.get(f"/admin/editor/revision/{revision.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="document"' not in html
    assert 'type="submit" value="Save"' not in html


def test_revisions_cannot_be_changed(admin_client, design):
    """Posting to a revision's change page changes nothing."""
    revision = design.current
    response = admin_client.post(
        f"/admin/editor/revision/{revision.pk}/change/",
        {"number": 9, "message": "rewritten", "document": "{}"},
    )
    assert response.status_code == 403
    revision.refresh_from_db()
    assert (revision.number, revision.message) == (1, "created")
    assert revision.document == design.document


@pytest.mark.parametrize(
    "url",
    ["/admin/editor/revision/add/", "/admin/editor/revision/{pk}/delete/"],
    ids=["add", "delete"],
)
def test_revisions_cannot_be_added_or_deleted(admin_client, design, url):
    """The admin offers no way to add or delete a revision."""
    url = url.format(pk=design.current.pk)
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Revision.objects.count() == 1


def test_revisions_cannot_be_bulk_deleted(admin_client, design):
    """The change list's "delete selected" action is not offered for revisions."""
    response = admin_client.post(
        "/admin/editor/revision/",
        {"action": "delete_selected", "_selected_action": [design.current.pk], "post": "yes"},
    )
    assert Revision.objects.count() == 1
    assert response.status_code in (200, 302)


def test_token_page_never_shows_the_key(admin_client, design):
    """A token's admin page shows its prefix and hash, both read-only."""
    token = ApiToken.objects.get()
    response = admin_client.get(f"/admin/editor/apitoken/{token.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert token.prefix in html
    assert 'name="key_hash"' not in html


def test_staff_without_permissions_is_refused(django_user_model, design):
    """A staff user without model permissions cannot open the editor's admin."""
    staff = django_user_model.objects.create_user(username="staff", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/editor/design/").status_code == 403
    assert client.get("/admin/editor/revision/").status_code == 403


def test_admin_deletes_a_design(admin_client, design):
    """The admin's delete button removes a design and its history."""
    response = admin_client.post(f"/admin/editor/design/{design.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Design.objects.count() == 0
    assert Revision.objects.count() == 0


def test_admin_deletes_a_user_with_designs(admin_client, design, owner):
    """Deleting a user in the admin deletes their designs, revisions and tokens."""
    response = admin_client.post(f"/admin/auth/user/{owner.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert (Design.objects.count(), Revision.objects.count(), ApiToken.objects.count()) == (
        0,
        0,
        0,
    )
