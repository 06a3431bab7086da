"""Who may see and change what: every check of the editor goes through this module.

A design that exists but that the user may not see answers exactly like one that does not
exist (:class:`DesignNotFound`), so ids reveal nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from editor.models import Design

User = AbstractBaseUser | AnonymousUser


class DesignNotFound(Exception):
    """No such design, or not one this user may see."""


def designs_visible_to(user: User) -> QuerySet[Design]:
    """Return the designs ``user`` may open."""
    if not user.is_authenticated:
        return Design.objects.none()
    return Design.objects.filter(owner=user)


def designs_editable_by(user: User) -> QuerySet[Design]:
    """Return the designs ``user`` may change, save, delete and deploy."""
    if not user.is_authenticated:
        return Design.objects.none()
    return Design.objects.filter(owner=user)


def access_design(user: User, design_id: int) -> Design:
    """Return design ``design_id`` if ``user`` may see it, else raise :class:`DesignNotFound`."""
    try:
        return designs_visible_to(user).select_related("current", "owner").get(pk=design_id)
    except Design.DoesNotExist:
        raise DesignNotFound(design_id) from None


def access_design_for_edit(user: User, design_id: int) -> Design:
    """Return design ``design_id`` if ``user`` may change it, else raise :class:`DesignNotFound`.

    A design the user may see but not change also answers "not found": write endpoints
    tell nothing more than read ones.
    """
    try:
        return designs_editable_by(user).select_related("current", "owner").get(pk=design_id)
    except Design.DoesNotExist:
        raise DesignNotFound(design_id) from None
