"""Fixtures shared by every test layer: users, designs made through ``editor.services`` and
API clients (bearer token, and a browser-like session that enforces CSRF).

pytest-django reads Django's settings before this file is imported, so nothing here can
change them; the documents come from ``tests/factories.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from factories import design_data  # noqa: E402 - found through the path set just above

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Hash test passwords with a cheap hasher: the real one takes most of a test's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def password() -> str:
    """The password of ``owner`` and ``stranger``."""
    return PASSWORD


@pytest.fixture
def owner(django_user_model: Any) -> Any:
    """The user whose designs the tests make."""
    return django_user_model.objects.create_user(username="olivia", password=PASSWORD)


@pytest.fixture
def stranger(django_user_model: Any) -> Any:
    """Another user, who must see none of ``owner``'s designs."""
    return django_user_model.objects.create_user(username="mallory", password=PASSWORD)


@pytest.fixture
def make_design(owner: Any) -> Callable[..., Any]:
    """Create a design through ``editor.services``: ``make_design(name, owner=..., **fields)``."""
    from editor import services

    def make(name: str = "lab", *, owner: Any = owner, **overrides: Any) -> Any:
        return services.create_design(owner=owner, data=design_data(name=name, **overrides))

    return make


@pytest.fixture
def token_client(owner: Any) -> Any:
    """A client that sends ``Authorization: Bearer <token>`` of ``owner`` on every request."""
    from django.test import Client

    from editor import services

    key = services.create_token(user=owner, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def session_client(owner: Any) -> Any:
    """A browser-like client logged in as ``owner``; CSRF checks are enforced."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


@pytest.fixture
def csrf_token(session_client: Any) -> str:
    """A CSRF token valid for ``session_client`` (its cookie is set as a side effect)."""
    response = session_client.get("/")
    assert response.status_code == 200
    return str(session_client.cookies["csrftoken"].value)


@pytest.fixture
def people(django_user_model: Any, owner: Any) -> dict[str, Any]:
    """The cast of the sharing tests: the owner, an editor, a viewer, a stranger, anonymous."""
    make = django_user_model.objects.create_user
    return {
        "owner": owner,
        "editor": make(username="eddie", password=PASSWORD),
        "viewer": make(username="vera", password=PASSWORD),
        "stranger": make(username="mallory2", password=PASSWORD),
        "anonymous": None,
    }


@pytest.fixture
def shared(make_design: Any, people: dict[str, Any]) -> Callable[..., Any]:
    """``shared(visibility, name, anonymous=False)``: an owner's design with an editor and a
    viewer, at that visibility (and a share link for link and public)."""
    from editor import services

    def make(visibility: str, name: str = "lab", anonymous: bool = False) -> Any:
        design = make_design(name)
        owner = people["owner"]
        services.set_collaborator(design, actor=owner, user=people["editor"], role="edit")
        services.set_collaborator(design, actor=owner, user=people["viewer"], role="view")
        services.set_visibility(design, actor=owner, visibility=visibility, anonymous=anonymous)
        design.refresh_from_db()
        return design

    return make
