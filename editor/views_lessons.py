"""Lesson pages: a design's revisions taken one step at a time (:mod:`editor.lessons`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from editor import lessons
from editor.forms import DocumentForm
from editor.pages import design_or_404
from editor.permissions import SignedInRequest
from editor.views import _render_design
from netlab.core import codec
from netlab.core.document import Document


@login_required
def lesson(request: SignedInRequest, design_id: int) -> HttpResponse:
    """The design page with its lesson: steps are revisions 1..``steps`` (default: all)."""
    design = design_or_404(request, design_id)
    last = design.current.number if design.current else 0
    try:
        count = min(max(int(request.GET.get("steps", last)), 1), last)
    except ValueError:
        count = last
    document = Document.model_validate(design.document)
    form = DocumentForm(initial={"document": codec.dump(document, "yaml")})
    return _render_design(request, design, document, form, lesson=lessons.steps_of(design, count))


@login_required
@require_POST
def start_tutorial(request: SignedInRequest) -> HttpResponse:
    design = lessons.start_tutorial(request.user)
    count = design.current.number if design.current else 0
    messages.success(request, f"{design.name}: the tutorial as a lesson, {count} steps.")
    return redirect(f"{reverse('lesson', args=[design.pk])}?steps={count}")
