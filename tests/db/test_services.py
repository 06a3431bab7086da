"""The editor's write functions (``editor.services``) on a real database."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from factories import design_data as factory_data

from editor import services
from editor.models import ApiToken, Design, Revision
from netlab.core.document import Document
from netlab.core.validation import InvalidDesign

pytestmark = pytest.mark.django_db


def design_data(name: str = "lab", **overrides: Any) -> dict[str, Any]:
    return factory_data(name=name, **overrides)


def bad_address(name: str = "lab") -> dict[str, Any]:
    data = design_data(name)
    data["links"][0]["endpoints"][0]["addresses"] = ["192.168.15.300/24"]
    return data


def counts() -> tuple[int, int]:
    return Design.objects.count(), Revision.objects.count()


def test_create_makes_revision_one(owner):
    """A new design has one revision, number 1, authored by its owner, and is current."""
    design = services.create_design(owner=owner, data=design_data("lab"), message="hello")

    revision = design.revisions.get()
    assert (revision.number, revision.author, revision.message) == (1, owner, "hello")
    assert design.current == revision
    assert design.document == revision.document == design_data("lab")
    assert (design.name, design.title) == ("lab", "")
    assert (design.node_count, design.link_count) == (3, 1)


def test_create_without_message_notes_creation(owner):
    """The first revision's message defaults to "created"."""
    design = services.create_design(owner=owner, data=design_data("lab"))
    assert design.current.message == "created"


def test_save_makes_next_revision(make_design, owner):
    """Each save adds revision n+1 and makes it current; earlier ones stay."""
    design = make_design("lab")
    services.save_revision(design, author=owner, data=design_data("lab", title="Second"))
    revision = services.save_revision(
        design, author=owner, data=design_data("lab", title="Third"), message="third"
    )

    assert revision.number == 3
    assert list(design.revisions.values_list("number", flat=True)) == [3, 2, 1]
    design.refresh_from_db()
    assert design.current == revision
    assert design.title == "Third"
    assert design.document["title"] == "Third"


def test_save_renames_when_the_document_name_changes(make_design, owner):
    """The design takes the name of the document it saves."""
    design = make_design("lab")
    services.save_revision(design, author=owner, data=design_data("renamed"))
    design.refresh_from_db()
    assert design.name == "renamed"
    assert Design.objects.filter(owner=owner, name="lab").count() == 0


def test_save_updates_counts(make_design, owner):
    """Node and link counts follow the current document."""
    design = make_design("lab")
    data = design_data("lab", links=[])
    services.save_revision(design, author=owner, data=data)
    design.refresh_from_db()
    assert (design.node_count, design.link_count) == (3, 0)


def test_name_is_unique_per_owner(make_design, owner):
    """Creating a second design of the same name for one owner is refused, saving nothing."""
    make_design("lab")
    before = counts()
    with pytest.raises(InvalidDesign) as raised:
        services.create_design(owner=owner, data=design_data("lab"))
    assert [problem.path for problem in raised.value.problems] == ["name"]
    assert counts() == before


def test_another_owner_may_reuse_a_name(make_design, stranger):
    """Names are unique per owner only."""
    mine = make_design("lab")
    theirs = make_design("lab", owner=stranger)
    assert mine.pk != theirs.pk
    assert theirs.owner == stranger


def test_save_cannot_take_a_name_in_use(make_design, owner):
    """Renaming onto another of the owner's designs is refused and saves nothing."""
    make_design("taken")
    design = make_design("lab")
    before = counts()
    with pytest.raises(InvalidDesign):
        services.save_revision(design, author=owner, data=design_data("taken"))
    assert counts() == before
    design.refresh_from_db()
    assert (design.name, design.current.number) == ("lab", 1)


def test_save_keeping_its_own_name_is_allowed(make_design, owner):
    """A design does not collide with itself."""
    design = make_design("lab")
    assert services.save_revision(design, author=owner, data=design_data("lab")).number == 2


def test_database_refuses_duplicate_names_too(make_design, owner):
    """The per-owner unique constraint backs up the service's check."""
    make_design("lab")
    with pytest.raises(IntegrityError), transaction.atomic():
        Design.objects.create(owner=owner, name="lab")


INVALID_DOCUMENTS = {
    "bad address": bad_address(),
    "not a mapping": ["a", "list"],
    "nothing": None,
    "unknown field": {**design_data("lab"), "colour": "red"},
    "no host": design_data("lab", nodes=[{"id": "red", "kind": "namespace"}], links=[]),
    "bad name": design_data("Not A Slug"),
}


@pytest.mark.parametrize("data", INVALID_DOCUMENTS.values(), ids=INVALID_DOCUMENTS.keys())
def test_invalid_document_creates_nothing(owner, data):
    """create_design raises InvalidDesign and writes no design and no revision."""
    with pytest.raises(InvalidDesign) as raised:
        services.create_design(owner=owner, data=data)
    assert raised.value.problems
    assert counts() == (0, 0)


@pytest.mark.parametrize("data", INVALID_DOCUMENTS.values(), ids=INVALID_DOCUMENTS.keys())
def test_invalid_document_saves_no_revision(make_design, owner, data):
    """save_revision raises InvalidDesign and leaves the design and its history as they were."""
    design = make_design("lab")
    before = counts()
    with pytest.raises(InvalidDesign):
        services.save_revision(design, author=owner, data=data)
    assert counts() == before
    design.refresh_from_db()
    assert design.current.number == 1
    assert design.document == design_data("lab")


def test_problem_names_its_path(owner):
    """A refused document lists each problem with its path into the document."""
    with pytest.raises(InvalidDesign) as raised:
        services.create_design(owner=owner, data=bad_address())
    assert [problem.path for problem in raised.value.problems] == [
        "links[0].endpoints[0].addresses[0]"
    ]


def test_revisions_are_immutable_history(make_design, owner):
    """Saving a new document leaves every earlier revision's document untouched."""
    design = make_design("lab")
    first = design.current
    services.save_revision(design, author=owner, data=design_data("lab", title="Changed"))

    first.refresh_from_db()
    assert first.document == design_data("lab")
    assert design.revisions.get(number=2).document["title"] == "Changed"


def test_revision_numbers_are_unique_per_design(make_design):
    """The database refuses a second revision with the same number."""
    design = make_design("lab")
    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.create(design=design, number=1, document={})


def test_delete_removes_design_and_history(make_design, owner):
    """delete_design removes the design and all its revisions."""
    design = make_design("lab")
    services.save_revision(design, author=owner, data=design_data("lab", title="Second"))
    other = make_design("other")
    services.delete_design(design, actor=owner)
    assert list(Design.objects.all()) == [other]
    assert list(Revision.objects.values_list("design", flat=True)) == [other.pk]


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        pytest.param([], "lab", id="free"),
        pytest.param(["lab"], "lab-2", id="taken once"),
        pytest.param(["lab", "lab-2"], "lab-3", id="taken twice"),
        pytest.param(["lab", "lab-3"], "lab-2", id="first gap"),
    ],
)
def test_copy_design_picks_a_free_name(make_design, owner, taken, expected):
    """copy_design keeps the document's name if free, else the first free ``name-N``."""
    for name in taken:
        make_design(name)
    copy = services.copy_design(
        owner=owner, document=Document.model_validate(design_data("lab")), message="copy"
    )
    assert copy.name == expected
    assert copy.document["name"] == expected
    assert copy.current.message == "copy"


def test_copy_design_ignores_other_owners_names(make_design, owner, stranger):
    """Another user's design of the same name does not push the copy to a new name."""
    make_design("lab", owner=stranger)
    copy = services.copy_design(
        owner=owner, document=Document.model_validate(design_data("lab")), message=""
    )
    assert copy.name == "lab"


def test_free_name_stays_within_the_length_limit(make_design, owner):
    """A 64-character name that is taken is shortened to make room for its suffix."""
    long_name = "a" * 64
    make_design(long_name)
    name = services.free_name(owner, long_name)
    assert name == "a" * 62 + "-2"
    copy = services.copy_design(
        owner=owner, document=Document.model_validate(design_data(long_name)), message=""
    )
    assert copy.name == name


@pytest.mark.parametrize(
    ("filename", "dump"),
    [
        pytest.param("lab.json", json.dumps, id="json"),
        pytest.param("lab.yaml", yaml.safe_dump, id="yaml"),
    ],
)
def test_import_document_reads_the_format_its_file_name_says(make_design, owner, filename, dump):
    """An imported file becomes a design under a free name, its message naming the file."""
    make_design("lab")
    imported = services.import_document(
        owner=owner, text=dump(design_data("lab")), filename=filename
    )
    assert (imported.name, imported.design.name) == ("lab", "lab-2")
    assert imported.design.current.message == f"imported from {filename}"
    assert (imported.source, imported.notes, imported.design.current.draft) == ("netlab", (), False)


def test_import_document_saves_nothing_from_an_invalid_file(owner):
    """Text that does not read, or reads as an invalid design, raises and saves nothing."""
    before = counts()
    for text in ("{not json", json.dumps(bad_address())):
        with pytest.raises(InvalidDesign):
            services.import_document(owner=owner, text=text, filename="lab.json")
    assert counts() == before


def test_token_stores_only_its_hash(owner):
    """create_token returns the key; the database holds its SHA-256 and a short prefix."""
    key = services.create_token(user=owner, name="ci")
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash(key) != key
    assert key not in (token.key_hash, token.prefix)
    assert key.startswith(token.prefix)
    assert len(token.prefix) == 8
    assert (token.user, token.name, token.last_used) == (owner, "ci", None)


def test_tokens_are_distinct(owner):
    """Two tokens for one user are different keys."""
    assert services.create_token(user=owner) != services.create_token(user=owner)


def test_user_for_token_finds_the_user_and_notes_use(owner):
    """A valid key gives its user and stamps the token's last use."""
    key = services.create_token(user=owner)
    assert services.user_for_token(key) == owner
    assert ApiToken.objects.get().last_used is not None


@pytest.mark.parametrize("key", ["", "nl_wrong", "x" * 200], ids=["empty", "unknown", "long"])
def test_user_for_unknown_token_is_none(owner, key):
    """A key that matches no token gives None."""
    services.create_token(user=owner)
    assert services.user_for_token(key) is None


def test_user_for_token_refuses_inactive_user(owner):
    """A deactivated user's tokens stop working."""
    key = services.create_token(user=owner)
    owner.is_active = False
    owner.save()
    assert services.user_for_token(key) is None
    assert ApiToken.objects.get().last_used is None


def test_ensure_admin_creates_once():
    """ensure_admin makes a superuser with a working password once, then returns None."""
    password = services.ensure_admin()
    users = get_user_model()
    admin = users.objects.get()
    assert admin.username == "admin"
    assert admin.is_superuser
    assert admin.is_staff
    assert password
    assert admin.check_password(password)

    assert services.ensure_admin() is None
    assert users.objects.count() == 1


def test_ensure_admin_does_nothing_when_a_superuser_exists(django_user_model):
    """Any existing superuser, whatever its name, means no admin is created."""
    django_user_model.objects.create_superuser(username="root", password="x")
    assert services.ensure_admin() is None
    assert not django_user_model.objects.filter(username="admin").exists()


def test_deleting_a_user_deletes_their_designs(make_design, owner):
    """A user's designs and revisions go with the user."""
    make_design("lab")
    owner.delete()
    assert counts() == (0, 0)
