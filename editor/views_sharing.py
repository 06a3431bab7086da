"""Pages of sharing: the public gallery, a design through its share link, sharing settings,
forks, and the history with restore and the diff of two revisions.

Like every view: parse, authorise through ``editor.permissions``, call ``editor.services``,
render. A page the user may not reach answers 404, whatever the reason.
"""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from editor import params, permissions, services
from editor.models import Collaborator, Design, Revision
from editor.pages import design_or_404, shared_design_or_404
from editor.permissions import SignedInRequest
from netlab.core import codec, diff
from netlab.core.document import Document
from netlab.core.layout import auto_layout
from netlab.core.validation import InvalidDesign

GALLERY_PAGE = 24


def bad_parameter(request: HttpRequest, error: params.BadParameter) -> HttpResponse:
    """The page that refuses a request parameter, saying which and why (400)."""
    return render(
        request,
        "editor/problem.html",
        {"heading": "Bad request", "message": str(error)},
        status=400,
    )


def gallery(request: HttpRequest) -> HttpResponse:
    """Public designs, searchable by name and title, ``GALLERY_PAGE`` a page; open to anyone.

    Each card shows its revision's stored picture: nothing is laid out per request, and
    documents are not even read unless a revision saved before pictures existed needs one.
    """
    query = request.GET.get("q", "").strip()
    try:
        number = params.integer(request.GET.get("page"), name="page", default=1)
    except params.BadParameter as error:
        return bad_parameter(request, error)
    designs = (
        permissions.public_designs().select_related("owner", "current").defer("current__document")
    )
    if query:
        designs = designs.filter(Q(name__icontains=query) | Q(title__icontains=query))
    paginator = Paginator(designs, GALLERY_PAGE)
    if number > paginator.num_pages:
        raise Http404("no such page")
    page = paginator.page(number)
    cards = [
        {"design": design, "picture": _picture_url(services.picture_of(design.current))}
        for design in page.object_list
        if design.current is not None
    ]
    return render(request, "editor/gallery.html", {"cards": cards, "query": query, "page": page})


def _picture_url(svg: str) -> str:
    # A data: URL in an <img>: the picture needs no request of its own, and an SVG shown
    # as an image runs no script and loads nothing, whatever it held.
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def shared_design(request: HttpRequest, token: str) -> HttpResponse:
    """A design, read-only, through its share link."""
    design = shared_design_or_404(request, token)
    document = Document.model_validate(design.document)
    return render(
        request,
        "editor/shared.html",
        {
            "design": design,
            "document": document,
            "preview": auto_layout(document).to_data(),
            "yaml": codec.dump(document, "yaml"),
            "revisions": design.revisions.select_related("author"),
            "token": token,
            "fork_count": design.forks.count(),
        },
    )


@login_required
@require_POST
def fork_design(request: SignedInRequest, design_id: int) -> HttpResponse:
    design = design_or_404(request, design_id)
    fork = services.fork_design(design, actor=request.user)
    messages.success(request, f"{fork.name} is your own fork of {design.owner}/{design.name}.")
    return redirect("design", design_id=fork.pk)


@login_required
@require_POST
def fork_shared_design(request: SignedInRequest, token: str) -> HttpResponse:
    design = shared_design_or_404(request, token)
    fork = services.fork_design(design, actor=request.user)
    messages.success(request, f"{fork.name} is your own fork of {design.owner}/{design.name}.")
    return redirect("design", design_id=fork.pk)


@login_required
def sharing(request: SignedInRequest, design_id: int) -> HttpResponse:
    """The owner's sharing settings: visibility, share link, collaborators."""
    design = design_or_404(request, design_id, "own")
    if request.method == "POST":
        _change_sharing(request, design)
        return redirect("sharing", design_id=design.pk)
    share_url = (
        request.build_absolute_uri(f"/shared/{design.share_token}/") if design.share_token else None
    )
    return render(
        request,
        "editor/sharing.html",
        {
            "design": design,
            "share_url": share_url,
            "collaborators": design.collaborators.select_related("user"),
            "visibilities": Design.Visibility.choices,
            "roles": Collaborator.Role.choices,
            "forks": design.forks.select_related("owner"),
        },
    )


def _change_sharing(request: SignedInRequest, design: Design) -> None:
    action = request.POST.get("action", "")
    actor = request.user
    if action == "visibility":
        visibility = request.POST.get("visibility", "")
        if visibility not in Design.Visibility.values:
            messages.error(request, "Choose private, anyone with the link, or public.")
            return
        anonymous = request.POST.get("anonymous") == "on"
        services.set_visibility(design, actor=actor, visibility=visibility, anonymous=anonymous)
        messages.success(request, f"{design.name} is now {design.get_visibility_display()}.")
    elif action == "renew-link":
        services.renew_share_link(design, actor=actor)
        messages.success(request, "A new share link is ready; the old one no longer works.")
    elif action == "revoke-link":
        services.revoke_share_link(design, actor=actor)
        messages.success(request, "The share link is revoked.")
    elif action in ("add-collaborator", "remove-collaborator"):
        users = get_user_model()
        username = request.POST.get("username", "").strip()
        user = users.objects.filter(**{users.USERNAME_FIELD: username}, is_active=True).first()
        if user is None:
            messages.error(request, f"There is no user {username!r}.")
        elif action == "remove-collaborator":
            services.remove_collaborator(design, actor=actor, user=user)
            messages.success(request, f"{username} no longer has access.")
        else:
            role = request.POST.get("role", "")
            if role not in Collaborator.Role.values:
                messages.error(request, "Choose view or edit.")
                return
            try:
                services.set_collaborator(design, actor=actor, user=user, role=role)
            except ValueError as error:
                messages.error(request, str(error))
                return
            messages.success(request, f"{username} may now {role} {design.name}.")
    else:
        messages.error(request, "Unknown sharing action.")


@login_required
def history(request: SignedInRequest, design_id: int) -> HttpResponse:
    """The revision list, and the diff of two revisions on the canvas and as a list."""
    design = design_or_404(request, design_id)
    try:
        return _history(request, design)
    except params.BadParameter as error:
        return bad_parameter(request, error)


def _history(request: HttpRequest, design: Design, status: int = 200) -> HttpResponse:
    revisions = list(design.revisions.select_related("author"))
    context: dict[str, Any] = {
        "design": design,
        "revisions": revisions,
        "can_edit": permissions.can_edit(request.user, design),
    }
    if len(revisions) >= 2:
        by_number = {revision.number: revision for revision in revisions}
        head = params.integer(request.GET.get("head"), name="head", default=revisions[0].number)
        base = params.integer(request.GET.get("base"), name="base", default=revisions[1].number)
        if head not in by_number or base not in by_number:
            raise Http404("no such revision")
        old = auto_layout(Document.model_validate(by_number[base].document))
        new = auto_layout(Document.model_validate(by_number[head].document))
        changes = diff.diff(old, new)
        context.update(
            base=base,
            head=head,
            changes=changes,
            preview=diff.overlay(old, new),
            marks=diff.change_marks(changes),
        )
    return render(request, "editor/history.html", context, status=status)


@login_required
@require_POST
def restore_revision(request: SignedInRequest, design_id: int, number: int) -> HttpResponse:
    design = design_or_404(request, design_id, "edit")
    try:
        revision = services.restore_revision(design, actor=request.user, number=number)
    except Revision.DoesNotExist:
        raise Http404("no such revision") from None
    except InvalidDesign as error:  # the old name is another of the owner's designs now
        for problem in error.problems:
            messages.error(request, f"Revision {number} cannot be restored: {problem.message}.")
        return _history(request, design, status=422)
    messages.success(request, f"Revision {number} restored as revision {revision.number}.")
    return redirect("history", design_id=design.pk)
