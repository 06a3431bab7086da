"""What the API's routers share: who may call them, the output schemas several of them answer
with, and the functions that render a design into those schemas.

``editor.api`` builds the API and mounts ``editor.api_sharing``'s router; both import from
here and neither from the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import Schema
from ninja.security import HttpBearer, SessionAuth

from editor import services
from editor.models import Design


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``, tokens made by ``manage.py netlab token USER``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.user_for_token(token)
        if user is not None:
            request.user = user
        return user


def _anyone(request: HttpRequest) -> bool:
    return True


# Every operation needs a signed-in user (a bearer token or a session with its CSRF token)
# unless it says otherwise.
SIGNED_IN: list[Any] = [BearerToken(), SessionAuth(csrf=True)]
# Share links and the gallery also answer anonymous callers (the permissions decide what).
SIGNED_IN_OR_ANONYMOUS: list[Any] = [*SIGNED_IN, _anyone]


class ProblemOut(Schema):
    path: str
    message: str
    # Added for the editor's problem list: the node or link as the canvas names it, and the
    # problem as one sentence naming it (see netlab.core.problems.Problem).
    element: str = ""
    sentence: str = ""


class WarningOut(ProblemOut):
    """A problem that refuses nothing (netlab.core.consistency, a site's kernel)."""

    severity: str = "warning"


class ErrorOut(Schema):
    detail: str
    problems: list[ProblemOut] = []


class DesignSummaryOut(Schema):
    id: int
    name: str
    title: str
    owner: str
    updated: datetime
    nodes: int
    links: int


class OriginOut(Schema):
    id: int
    name: str
    owner: str


class DesignOut(Schema):
    id: int
    name: str
    title: str
    owner: str
    updated: datetime
    revision: int
    visibility: str
    fork_count: int
    forked_from: OriginOut | None
    document: dict[str, Any]
    draft: bool
    problems: list[ProblemOut]


def _identity(design: Design) -> dict[str, Any]:
    return {
        "id": design.pk,
        "name": design.name,
        "title": design.title,
        "owner": design.owner.get_username(),
        "updated": design.updated,
    }


def summary_out(design: Design) -> dict[str, Any]:
    return {**_identity(design), "nodes": design.node_count, "links": design.link_count}


def design_out(design: Design) -> dict[str, Any]:
    origin = design.forked_from
    return {
        **_identity(design),
        "revision": design.current.number if design.current else 0,
        "visibility": design.visibility,
        "fork_count": design.forks.count(),
        "forked_from": None
        if origin is None
        else {"id": origin.pk, "name": origin.name, "owner": origin.owner.get_username()},
        "document": design.document,
        # A draft revision was saved with problems: listed here, it cannot be deployed.
        "draft": bool(design.current and design.current.draft),
        "problems": [
            problem.as_dict()
            for problem in (services.problems_of(design.current) if design.current else [])
        ],
    }
