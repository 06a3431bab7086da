"""Every write to the editor's models goes through these functions.

Views, API handlers, commands and consumers parse and authorise, then call one of these.
Each takes the acting user keyword-only, validates the document with ``netlab.core`` before
touching the database, and writes in one transaction: an invalid document saves nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from editor.models import ApiToken, Design, Revision
from netlab.core import validation
from netlab.core.document import Design as Document
from netlab.core.validation import InvalidDesign, Problem

TOKEN_BYTES = 32


def _name_taken(owner: AbstractBaseUser, name: str, *, excluding: Design | None = None) -> bool:
    designs = Design.objects.filter(owner=owner, name=name)
    if excluding is not None:
        designs = designs.exclude(pk=excluding.pk)
    return designs.exists()


def _name_taken_problem(name: str) -> InvalidDesign:
    return InvalidDesign([Problem("name", f"you already have a design named {name!r}")])


def _write_revision(
    design: Design, document: Document, *, author: AbstractBaseUser, message: str
) -> Revision:
    number = (design.revisions.aggregate(last=Max("number"))["last"] or 0) + 1
    revision = Revision.objects.create(
        design=design, number=number, document=document.to_data(), author=author, message=message
    )
    design.current = revision
    design.name = document.name
    design.title = document.title
    design.node_count = len(document.nodes)
    design.link_count = len(document.links)
    design.save()
    return revision


def create_design(*, owner: AbstractBaseUser, data: Any, message: str = "") -> Design:
    """Create a design owned by ``owner`` from document ``data``, with its first revision.

    Raises :class:`InvalidDesign` (every problem listed) when the document is invalid or
    ``owner`` already has a design of that name.
    """
    document = validation.load(data)
    if _name_taken(owner, document.name):
        raise _name_taken_problem(document.name)
    try:
        with transaction.atomic():
            design = Design.objects.create(owner=owner, name=document.name, title=document.title)
            _write_revision(design, document, author=owner, message=message or "created")
    except IntegrityError:  # a concurrent create took the name between check and insert
        raise _name_taken_problem(document.name) from None
    return design


def save_revision(
    design: Design, *, author: AbstractBaseUser, data: Any, message: str = ""
) -> Revision:
    """Save ``data`` as the new current revision of ``design``; the document may rename it.

    Raises :class:`InvalidDesign` when the document is invalid or its name is taken.
    """
    document = validation.load(data)
    if _name_taken(design.owner, document.name, excluding=design):
        raise _name_taken_problem(document.name)
    try:
        with transaction.atomic():
            locked = Design.objects.select_for_update().get(pk=design.pk)
            revision = _write_revision(locked, document, author=author, message=message)
    except IntegrityError:
        raise _name_taken_problem(document.name) from None
    design.refresh_from_db()
    return revision


def delete_design(design: Design, *, actor: AbstractBaseUser) -> None:
    """Delete ``design`` and its history. ``actor`` is checked by the caller."""
    design.delete()


def free_name(owner: AbstractBaseUser, name: str) -> str:
    """Return ``name``, or ``name-2``, ``name-3``... whichever ``owner`` does not use yet."""
    candidate, number = name, 1
    while _name_taken(owner, candidate):
        number += 1
        suffix = f"-{number}"
        candidate = name[: 64 - len(suffix)] + suffix
    return candidate


def copy_design(*, owner: AbstractBaseUser, document: Document, message: str) -> Design:
    """Create ``owner``'s own copy of ``document`` under a name they do not use yet."""
    copy = document.model_copy(update={"name": free_name(owner, document.name)})
    return create_design(owner=owner, data=copy.to_data(), message=message)


def create_token(*, user: AbstractBaseUser, name: str = "") -> str:
    """Create an API token for ``user`` and return it; only its hash is kept."""
    key = "nl_" + secrets.token_urlsafe(TOKEN_BYTES)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8], name=name)
    return key


def user_for_token(key: str) -> AbstractBaseUser | None:
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
