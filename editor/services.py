"""Every write to the editor's models goes through these functions.

Views, API handlers, commands and consumers parse and authorise, then call one of these.
Each takes the acting user keyword-only, validates the document with ``netlab.core`` before
touching the database, and writes in one transaction: an invalid document saves nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError, Q
from django.utils import timezone

from editor import deployments, worker
from editor.models import ApiToken, Collaborator, Deployment, Design, Revision
from netlab.core import interop, names, picture, validation
from netlab.core.document import Document
from netlab.core.validation import InvalidDesign, Problem

TOKEN_BYTES = 32


def _name_taken(owner: User, name: str, *, excluding: Design | None = None) -> bool:
    designs = Design.objects.filter(owner=owner, name=name)
    if excluding is not None:
        designs = designs.exclude(pk=excluding.pk)
    return designs.exists()


def _name_taken_problem(name: str) -> InvalidDesign:
    return InvalidDesign([Problem("name", f"you already have a design named {name!r}")])


def _checked(data: Any) -> Document:
    """Return the valid document in ``data``, within the server's size quotas."""
    document = validation.load(data)
    problems = _quota_problems(document)
    if problems:
        raise InvalidDesign(problems)
    return document


def _checked_draft(data: Any) -> tuple[Document, list[Problem]]:
    """Return the well-shaped document in ``data`` and its problems of meaning.

    A draft may break every rule of meaning, but not the shape (it must read as a
    netlab/v1 document) nor the server's size quotas: raises :class:`InvalidDesign` then.
    """
    document = validation.parse(data)
    problems = _quota_problems(document)
    if problems:
        raise InvalidDesign(problems)
    return document, validation.validate(document)


def _quota_problems(document: Document) -> list[Problem]:
    problems = []
    if len(document.nodes) > settings.NETLAB_MAX_NODES:
        problems.append(
            Problem(
                "nodes",
                f"{len(document.nodes)} nodes is more than this server allows in a design "
                f"({settings.NETLAB_MAX_NODES})",
            )
        )
    if len(document.links) > settings.NETLAB_MAX_LINKS:
        problems.append(
            Problem(
                "links",
                f"{len(document.links)} links is more than this server allows in a design "
                f"({settings.NETLAB_MAX_LINKS})",
            )
        )
    return problems


def _write_revision(
    design: Design, document: Document, *, author: User, message: str, draft: bool = False
) -> Revision:
    number = (design.revisions.aggregate(last=Max("number"))["last"] or 0) + 1
    revision = Revision.objects.create(
        design=design,
        number=number,
        document=document.to_data(),
        author=author,
        message=message,
        draft=draft,
        picture=_picture(document),
    )
    design.current = revision
    if not draft or not names.design_name_problem(document.name):
        design.name = document.name  # a draft's bad name stays in its document only
    design.title = document.title
    design.node_count = len(document.nodes)
    design.link_count = len(document.links)
    design.save()
    return revision


def _picture(document: Document) -> str:
    """The gallery picture of ``document``; none for a draft it cannot be drawn from."""
    try:
        return picture.draw(document)
    except (KeyError, ValueError, TypeError, IndexError):  # a draft naming missing nodes...
        return ""


def problems_of(revision: Revision) -> list[Problem]:
    """The problems of ``revision``'s document: a draft's; none for a valid revision."""
    if not revision.draft:
        return []
    return validation.problems_of(revision.document)


def create_design(*, owner: User, data: Any, message: str = "", draft: bool = False) -> Design:
    """Create a design owned by ``owner`` from document ``data``, with its first revision.

    Raises :class:`InvalidDesign` (every problem listed) when the document is invalid or
    ``owner`` already has a design of that name. With ``draft``, a document with problems of
    meaning (but a valid name) makes a design whose first revision is a draft.
    """
    if draft:
        document, problems = _checked_draft(data)
        naming = [problem for problem in problems if problem.path == "name"]
        if naming:  # a new design needs a name, draft or not
            raise InvalidDesign(naming)
    else:
        document, problems = _checked(data), []
    if _name_taken(owner, document.name):
        raise _name_taken_problem(document.name)
    try:
        with transaction.atomic():
            design = Design.objects.create(owner=owner, name=document.name, title=document.title)
            _write_revision(
                design, document, author=owner, message=message or "created", draft=bool(problems)
            )
    except IntegrityError:  # a concurrent create took the name between check and insert
        raise _name_taken_problem(document.name) from None
    return design


def save_revision(
    design: Design, *, author: User, data: Any, message: str = "", draft: bool = False
) -> Revision:
    """Save ``data`` as the new current revision of ``design``; the document may rename it.

    Raises :class:`InvalidDesign` when the document is invalid or its name is taken. With
    ``draft``, a document with problems of meaning (not of shape, nor past the quotas) is
    saved as a *draft* revision instead (``revision.draft``; not deployable until a later
    revision is valid), and keeps the design's name if its own is not a valid one; a valid
    document is saved as an ordinary revision, as without ``draft``.
    """
    if draft:
        document, problems = _checked_draft(data)
    else:
        document, problems = _checked(data), []
    draft = bool(problems)
    if _name_taken(design.owner, document.name, excluding=design):
        raise _name_taken_problem(document.name)
    try:
        with transaction.atomic():
            locked = Design.objects.select_for_update().get(pk=design.pk)
            revision = _write_revision(
                locked, document, author=author, message=message, draft=draft
            )
    except IntegrityError:
        raise _name_taken_problem(document.name) from None
    design.refresh_from_db()
    return revision


def delete_design(design: Design, *, actor: User) -> None:
    """Delete ``design``, its history and its ended deployments. ``actor`` is checked by the
    caller.

    Raises :class:`~editor.deployments.LabsActive`, naming them, while any lab of ``design``
    (anyone's) is active: its row is what lets the worker destroy it.
    """
    what = f"design {design.name}"
    try:
        with transaction.atomic():
            deployments.remove_ended(Deployment.objects.filter(design=design), what)
            worker.access_changed(design.pk)  # open pages close once the delete commits
            design.delete()
    except ProtectedError as error:  # a lab requested between the check and the delete
        raise deployments.LabsActive(what, _labs(error)) from None


def delete_user(user: User, *, actor: User) -> None:
    """Delete ``user`` with their designs and ended deployments (an administrator's act).

    Raises :class:`~editor.deployments.LabsActive` while a lab ``user`` deployed, or any
    lab of one of their designs, is active.
    """
    what = f"user {user}"
    try:
        with transaction.atomic():
            labs = Deployment.objects.filter(Q(owner=user) | Q(design__owner=user))
            deployments.remove_ended(labs, what)
            reachable = Design.objects.filter(Q(owner=user) | Q(collaborators__user=user))
            for design_id in reachable.values_list("pk", flat=True).distinct():
                worker.access_changed(design_id)  # their open pages close once this commits
            user.delete()
    except ProtectedError as error:
        raise deployments.LabsActive(what, _labs(error)) from None


def _labs(error: ProtectedError) -> list[Deployment]:
    # Deployments are the only rows that protect a design or a user (on_delete=PROTECT).
    return cast("list[Deployment]", list(error.protected_objects))


def free_name(owner: User, name: str) -> str:
    """Return ``name``, or ``name-2``, ``name-3``... whichever ``owner`` does not use yet."""
    candidate, number = name, 1
    while _name_taken(owner, candidate):
        number += 1
        suffix = f"-{number}"
        candidate = name[: 64 - len(suffix)] + suffix
    return candidate


def copy_design(
    *,
    owner: User,
    document: Document,
    message: str,
    forked_from: Design | None = None,
    draft: bool = False,
) -> Design:
    """Create ``owner``'s own copy of ``document`` under a name they do not use yet (a
    draft's copy is a draft: see :func:`create_design`)."""
    copy = document.model_copy(update={"name": free_name(owner, document.name)})
    design = create_design(owner=owner, data=copy.to_data(), message=message, draft=draft)
    if forked_from is not None:
        Design.objects.filter(pk=design.pk).update(forked_from=forked_from)
        design.forked_from = forked_from
    return design


@dataclass(frozen=True)
class Imported:
    """What an import made: the design, the name the file asked for, and the notes on what
    was not translated (or was, adjusted), in the source's order."""

    design: Design
    name: str
    notes: tuple[interop.Note, ...]
    source: interop.Source


def import_document(
    *, owner: User, text: str | bytes, filename: str, message: str = ""
) -> Imported:
    """Create ``owner``'s design from the file ``filename`` holding ``text``.

    The one way a file becomes a design (the dashboard's import, the editor's, the API's and
    ``manage.py netlab import``): the format is recognised by content (a netlab/v1 document
    in JSON or YAML, a containerlab topology, a command script: :func:`interop.read`); the
    name taken is the document's or, when ``owner`` already uses it, the first free
    ``name-N``. A netlab document must be valid; a translated one with problems is kept as
    a draft (what its source says, to be fixed on the canvas). Raises
    :class:`InvalidDesign` (every problem listed) when the text does not read, is an invalid
    netlab document, or holds nothing to translate; nothing is saved then.
    """
    translation = interop.read(text, filename)
    name = str(translation.data.get("name", ""))
    message = message or f"imported from {filename}"
    data = {**translation.data, "name": free_name(owner, name)}
    design = create_design(
        owner=owner, data=data, message=message, draft=translation.source != "netlab"
    )
    return Imported(design, name, translation.notes, translation.source)


def fork_design(design: Design, *, actor: User) -> Design:
    """Copy ``design``'s current document into ``actor``'s designs, remembering its origin.

    The fork of a draft is a draft (under the design's name if the draft's own is not one).

    The caller has checked that ``actor`` may read ``design``.
    """
    document = Document.model_validate(design.document)
    draft = bool(design.current and design.current.draft)
    if draft and names.design_name_problem(document.name):
        document = document.model_copy(update={"name": design.name})
    return copy_design(
        owner=actor,
        document=document,
        message=f"forked from {design.owner}/{design.name} r{design.current.number}"
        if design.current
        else "forked",
        forked_from=design,
        draft=draft,
    )


def restore_revision(design: Design, *, actor: User, number: int) -> Revision:
    """Save revision ``number``'s document as ``design``'s new current revision.

    History is never rewritten: the restored state is a new revision. Raises
    ``Revision.DoesNotExist`` for an unknown number.
    """
    old = design.revisions.get(number=number)
    return save_revision(
        design,
        author=actor,
        data=old.document,
        message=f"restored revision {number}",
        draft=old.draft,
    )


def set_visibility(
    design: Design, *, actor: User, visibility: str, anonymous: bool | None = None
) -> Design:
    """Set who may read ``design``; ``anonymous`` (when given) lets the link work logged out.

    Going private drops the share link. Whenever it is (re)enabled, from private or from
    public, the design gets a fresh one: a link given out before it went private, or the one
    the gallery published while it was public, must not open it again. From link to public
    the link stays (it is published as it is), as it does when the visibility is unchanged.
    """
    old, new = design.visibility, Design.Visibility(visibility)
    fields = ["visibility", "share_token", "updated"]
    if new == Design.Visibility.PRIVATE:
        design.share_token = None
    elif (
        old == Design.Visibility.PRIVATE
        or not design.share_token
        or (old == Design.Visibility.PUBLIC and new == Design.Visibility.LINK)
    ):
        design.share_token = _new_share_token()
    design.visibility = new
    if anonymous is not None:
        design.share_anonymous = anonymous
        fields.append("share_anonymous")
    design.save(update_fields=fields)
    worker.access_changed(design.pk)  # pages of readers who lost it close
    return design


def renew_share_link(design: Design, *, actor: User) -> Design:
    """Replace ``design``'s share link with a new one; the old link stops working at once."""
    design.share_token = _new_share_token()
    if design.visibility == Design.Visibility.PRIVATE:
        design.visibility = Design.Visibility.LINK
    design.save(update_fields=["share_token", "visibility", "updated"])
    return design


def revoke_share_link(design: Design, *, actor: User) -> Design:
    """Remove ``design``'s share link; a link-shared design becomes private again."""
    design.share_token = None
    if design.visibility == Design.Visibility.LINK:
        design.visibility = Design.Visibility.PRIVATE
    design.save(update_fields=["share_token", "visibility", "updated"])
    return design


def _new_share_token() -> str:
    return secrets.token_urlsafe(32)


def picture_of(revision: Revision) -> str:
    """Return ``revision``'s gallery picture, drawing and storing it if it has none yet.

    Revisions saved before pictures existed get theirs the first time the gallery shows
    them; the picture is derived from the immutable document, so storing it changes nothing
    the revision records.
    """
    if not revision.picture:
        revision.picture = _picture(Document.model_validate(revision.document))
        Revision.objects.filter(pk=revision.pk).update(picture=revision.picture)
    return revision.picture


def set_collaborator(design: Design, *, actor: User, user: User, role: str) -> Collaborator:
    """Give ``user`` the ``role`` (view or edit) on ``design``; the owner needs none.

    Raises ``ValueError`` when ``user`` is the owner.
    """
    if user.pk == design.owner_id:
        raise ValueError(f"{user} owns {design.name} already")
    collaborator, _created = Collaborator.objects.update_or_create(
        design=design, user=user, defaults={"role": Collaborator.Role(role)}
    )
    return collaborator


def remove_collaborator(design: Design, *, actor: User, user: User) -> None:
    """Take every right on ``design`` away from ``user`` (nothing happens if they had none).

    Their lab of ``design``, if one is active or failed, is destroyed (through the worker,
    like any destroy): they could no longer reach it. A lab still deploying is destroyed as
    soon as it is built (``deployments.run_deploy`` checks).
    """
    with transaction.atomic():
        Collaborator.objects.filter(design=design, user=user).delete()
        worker.access_changed(design.pk)  # their open pages close once this commits
        if user.pk == design.owner_id:
            return
        # A failed lab too: a destroy that failed may have left objects behind.
        lab = deployments.latest(design, user)
        if lab is not None and lab.state != Deployment.State.STOPPED:
            deployments.request_destroy(lab, actor=actor)


def create_token(*, user: User, name: str = "") -> str:
    """Create an API token for ``user`` and return it; only its hash is kept."""
    key = "nl_" + secrets.token_urlsafe(TOKEN_BYTES)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8], name=name)
    return key


def user_for_token(key: str) -> User | None:
    """Return the active user whose token is ``key`` (and note its use), or None."""
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash(key)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
    return token.user


def ensure_admin(username: str = "admin") -> str | None:
    """Create a superuser ``username`` with a generated password if the site has no superuser.

    Returns the password when one was created (to be shown once), None otherwise.
    """
    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser(username=username, email="", password=password)
    return password
