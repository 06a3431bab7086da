"""The API of sharing: visibility and share links, collaborators, forks, history and the
gallery. A router that ``editor.api`` mounts; the rules are ``editor.permissions``'s.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest
from ninja import Router, Schema, Status

from editor import permissions, services
from editor.api_common import (
    SIGNED_IN_OR_ANONYMOUS,
    DesignOut,
    DesignSummaryOut,
    ErrorOut,
    design_out,
    summary_out,
)
from editor.models import Collaborator, Design
from editor.params import DesignId, PageQuery, RevisionNumber, RevisionQuery
from editor.permissions import SignedInRequest
from netlab.core import diff
from netlab.core.document import Document

GALLERY_PAGE = 200

router = Router()


class SharingIn(Schema):
    visibility: Design.Visibility
    anonymous: bool | None = None


class CollaboratorOut(Schema):
    user: str
    role: str


class SharingOut(Schema):
    visibility: str
    anonymous: bool
    share_path: str | None
    collaborators: list[CollaboratorOut]


class RoleIn(Schema):
    role: Collaborator.Role


class ElementChangeOut(Schema):
    kind: str
    key: str
    change: str
    fields: list[str]


class DiffOut(Schema):
    base: int
    head: int
    design: list[str]
    elements: list[ElementChangeOut]


def _sharing_out(design: Design) -> dict[str, Any]:
    return {
        "visibility": design.visibility,
        "anonymous": design.share_anonymous,
        "share_path": f"/shared/{design.share_token}/" if design.share_token else None,
        "collaborators": [
            {"user": collaborator.user.get_username(), "role": collaborator.role}
            for collaborator in design.collaborators.select_related("user")
        ],
    }


def _user(username: str) -> User:
    users = get_user_model()
    user = users.objects.filter(**{users.USERNAME_FIELD: username}, is_active=True).first()
    if user is None:
        raise permissions.DesignNotFound(username)  # unknown users tell nothing either
    return user


@router.get(
    "/designs/{design_id}/sharing", response={200: SharingOut, 404: ErrorOut}, tags=["sharing"]
)
def read_sharing(request: SignedInRequest, design_id: DesignId) -> dict[str, Any]:
    """Who may read or change the design (owner only)."""
    return _sharing_out(permissions.access_design_as_owner(request.user, design_id))


@router.put(
    "/designs/{design_id}/sharing", response={200: SharingOut, 404: ErrorOut}, tags=["sharing"]
)
def update_sharing(
    request: SignedInRequest, design_id: DesignId, body: SharingIn
) -> dict[str, Any]:
    """Set the visibility (private, link, public) and whether the link works anonymously."""
    design = permissions.access_design_as_owner(request.user, design_id)
    services.set_visibility(
        design, actor=request.user, visibility=body.visibility, anonymous=body.anonymous
    )
    return _sharing_out(design)


@router.post(
    "/designs/{design_id}/share-link", response={200: SharingOut, 404: ErrorOut}, tags=["sharing"]
)
def renew_share_link(request: SignedInRequest, design_id: DesignId) -> dict[str, Any]:
    """Make a new share link; the old one stops working at once."""
    design = permissions.access_design_as_owner(request.user, design_id)
    services.renew_share_link(design, actor=request.user)
    return _sharing_out(design)


@router.delete(
    "/designs/{design_id}/share-link", response={200: SharingOut, 404: ErrorOut}, tags=["sharing"]
)
def revoke_share_link(request: SignedInRequest, design_id: DesignId) -> dict[str, Any]:
    """Revoke the share link: it then answers like a missing design."""
    design = permissions.access_design_as_owner(request.user, design_id)
    services.revoke_share_link(design, actor=request.user)
    return _sharing_out(design)


@router.put(
    "/designs/{design_id}/collaborators/{username}",
    response={200: SharingOut, 404: ErrorOut, 422: ErrorOut},
    tags=["sharing"],
)
def set_collaborator(
    request: SignedInRequest, design_id: DesignId, username: str, body: RoleIn
) -> Any:
    """Let another user view, or edit (save and deploy their own lab of), the design."""
    design = permissions.access_design_as_owner(request.user, design_id)
    try:
        services.set_collaborator(design, actor=request.user, user=_user(username), role=body.role)
    except ValueError as error:
        return Status(422, {"detail": str(error)})
    return _sharing_out(design)


@router.delete(
    "/designs/{design_id}/collaborators/{username}",
    response={200: SharingOut, 404: ErrorOut},
    tags=["sharing"],
)
def remove_collaborator(
    request: SignedInRequest, design_id: DesignId, username: str
) -> dict[str, Any]:
    """Take a collaborator's rights away."""
    design = permissions.access_design_as_owner(request.user, design_id)
    services.remove_collaborator(design, actor=request.user, user=_user(username))
    return _sharing_out(design)


@router.post(
    "/designs/{design_id}/fork", response={201: DesignOut, 404: ErrorOut}, tags=["sharing"]
)
def fork_design(request: SignedInRequest, design_id: DesignId) -> Status[dict[str, Any]]:
    """Copy a design you may read into your own designs."""
    design = permissions.access_design(request.user, design_id)
    return Status(201, design_out(services.fork_design(design, actor=request.user)))


@router.get(
    "/shared/{token}",
    response={200: DesignOut, 404: ErrorOut},
    auth=SIGNED_IN_OR_ANONYMOUS,
    tags=["sharing"],
)
def read_shared_design(request: HttpRequest, token: str) -> dict[str, Any]:
    """A design through its share link (anonymously if its owner allows it)."""
    return design_out(permissions.access_shared_design(request.user, token))


@router.post("/shared/{token}/fork", response={201: DesignOut, 404: ErrorOut}, tags=["sharing"])
def fork_shared_design(request: SignedInRequest, token: str) -> Status[dict[str, Any]]:
    """Copy a design shared by link into your own designs."""
    design = permissions.access_shared_design(request.user, token)
    return Status(201, design_out(services.fork_design(design, actor=request.user)))


@router.post(
    "/designs/{design_id}/revisions/{number}/restore",
    response={200: DesignOut, 404: ErrorOut, 422: ErrorOut},
    tags=["revisions"],
)
def restore_revision(request: SignedInRequest, design_id: DesignId, number: RevisionNumber) -> Any:
    """Save an old revision's document as a new revision."""
    design = permissions.access_design_for_edit(request.user, design_id)
    if not design.revisions.filter(number=number).exists():
        return Status(404, {"detail": "no such revision"})
    services.restore_revision(design, actor=request.user, number=number)
    return design_out(design)


@router.get("/designs/{design_id}/diff", response={200: DiffOut, 404: ErrorOut}, tags=["revisions"])
def diff_revisions(
    request: SignedInRequest, design_id: DesignId, base: RevisionQuery, head: RevisionQuery
) -> Any:
    """What changed from revision ``base`` to revision ``head``."""
    design = permissions.access_design(request.user, design_id)
    revisions = {
        revision.number: revision for revision in design.revisions.filter(number__in=[base, head])
    }
    if base not in revisions or head not in revisions:
        return Status(404, {"detail": "no such revision"})
    changes = diff.diff(
        Document.model_validate(revisions[base].document),
        Document.model_validate(revisions[head].document),
    )
    return {"base": base, "head": head, **changes.as_dict()}


@router.get(
    "/gallery",
    response=list[DesignSummaryOut],
    auth=SIGNED_IN_OR_ANONYMOUS,
    tags=["sharing"],
)
def gallery(request: HttpRequest, q: str = "", page: PageQuery = 1) -> list[dict[str, Any]]:
    """Public designs, searchable by name and title, ``GALLERY_PAGE`` a page (from 1)."""
    designs = permissions.public_designs().select_related("owner")
    if q:
        designs = designs.filter(Q(name__icontains=q) | Q(title__icontains=q))
    start = (page - 1) * GALLERY_PAGE
    return [summary_out(design) for design in designs[start : start + GALLERY_PAGE]]
