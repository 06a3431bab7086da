"""What the page views share: the design a request may reach, or the page's 404.

The rules are ``editor.permissions``'s; a design that exists but that the user may not reach
this way answers like one that does not exist.
"""

from __future__ import annotations

from typing import Literal

from django.http import Http404, HttpRequest

from editor import permissions
from editor.models import Design

Need = Literal["read", "edit", "own"]

_ACCESS = {
    "read": permissions.access_design,
    "edit": permissions.access_design_for_edit,
    "own": permissions.access_design_as_owner,
}


def design_or_404(request: HttpRequest, design_id: int, need: Need = "read") -> Design:
    """Return design ``design_id`` if ``request``'s user may ``need`` it; raise Http404 if not."""
    try:
        return _ACCESS[need](request.user, design_id)
    except permissions.DesignNotFound:
        raise Http404("no such design") from None


def shared_design_or_404(request: HttpRequest, token: str) -> Design:
    """Return the design whose share link is ``token``, if it opens for this request's user."""
    try:
        return permissions.access_shared_design(request.user, token)
    except permissions.DesignNotFound:
        raise Http404("no such design") from None
