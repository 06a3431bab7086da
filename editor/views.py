"""The editor's pages: dashboard, design (the editor), revision, examples, import and export.

Each view parses its input, authorises through ``editor.permissions``, calls
``editor.services`` and renders; no model is saved here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from editor import lab, permissions, services
from editor.deployments import LabsActive, draft_refusal
from editor.examples import example, examples
from editor.forms import DocumentForm, ImportForm
from editor.models import Deployment, Design
from editor.pages import design_or_404
from editor.permissions import SignedInRequest
from netlab.core import codec
from netlab.core.document import Document, Node
from netlab.core.interop import containerlab
from netlab.core.layout import auto_layout
from netlab.core.validation import InvalidDesign

EXPORT_TYPES = {
    "json": "application/json",
    "yaml": "application/yaml",
    "sh": "text/x-shellscript",
    "clab.yml": "application/yaml",  # a containerlab topology
}
# Exports that build the lab, never made of a draft, and what each is called.
SCRIPTED = {"sh": "a script", "clab.yml": "a containerlab topology"}
MAX_IMPORT_NOTES = 20


def _preview(document: Document) -> dict[str, Any]:
    """The document laid out for the read-only topology preview (nothing is saved)."""
    return auto_layout(document).to_data()


@login_required
def dashboard(request: SignedInRequest) -> HttpResponse:
    return render(
        request,
        "editor/dashboard.html",
        {
            "designs": _with_running(permissions.designs_owned_by(request.user)),
            "shared": _with_running(
                permissions.designs_shared_with(request.user).select_related("owner")
            ),
            "examples": examples(),
            "import_form": ImportForm(),
        },
    )


def _with_running(designs: QuerySet[Design]) -> QuerySet[Design]:
    """Annotate each design with ``running``: whether a lab of it is running (anyone's).

    One subquery in the list's own query, whatever the number of designs.
    """
    running = Deployment.objects.filter(design=OuterRef("pk"), state=Deployment.State.RUNNING)
    return designs.annotate(running=Exists(running))


@login_required
@require_POST
def new_design(request: SignedInRequest) -> HttpResponse:
    empty = Document(
        name="untitled", title="Untitled design", nodes=(Node(id="host", kind="host"),)
    )
    design = services.copy_design(owner=request.user, document=empty, message="new design")
    return redirect("design", design_id=design.pk)


@login_required
@require_POST
def import_design(request: SignedInRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to import: a design, a topology or a script.")
        return redirect("dashboard")
    upload = form.cleaned_data["file"]
    try:
        imported = services.import_document(
            owner=request.user, text=upload.read(), filename=upload.name
        )
    except InvalidDesign as error:
        return render(
            request,
            "editor/import_failed.html",
            {"filename": upload.name, "problems": error.problems},
            status=422,
        )
    design = imported.design
    messages.success(request, f"Imported {design.name}.")
    left_out = [note for note in imported.notes if not note.imported]
    for note in imported.notes[:MAX_IMPORT_NOTES]:
        messages.warning(request, str(note))
    if len(imported.notes) > MAX_IMPORT_NOTES:
        messages.warning(
            request,
            f"… {len(imported.notes) - MAX_IMPORT_NOTES} more notes: manage.py netlab import "
            f"--dry-run {upload.name} lists them all ({len(left_out)} items not imported).",
        )
    if design.current is not None and design.current.draft:
        messages.warning(
            request, "Saved as a draft: the canvas shows what to fix before deploying."
        )
    return redirect("design", design_id=design.pk)


@login_required
def design_detail(request: SignedInRequest, design_id: int) -> HttpResponse:
    design = design_or_404(request, design_id)
    document = Document.model_validate(design.document)
    form = DocumentForm(initial={"document": codec.dump(document, "yaml")})
    return _render_design(request, design, document, form)


def _render_design(
    request: HttpRequest,
    design: Design,
    document: Document,
    form: DocumentForm,
    problems: list[Any] | None = None,
    status: int = 200,
    lesson: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    return render(
        request,
        "editor/design.html",
        {
            "lesson": lesson,
            "design": design,
            "document": document,
            "revisions": design.revisions.select_related("author"),
            "form": form,
            "problems": problems or [],
            "can_edit": permissions.can_edit(request.user, design),
            "is_owner": permissions.is_owner(request.user, design),
            "fork_count": design.forks.count(),
        },
        status=status,
    )


@login_required
@require_POST
def save_design(request: SignedInRequest, design_id: int) -> HttpResponse:
    design = design_or_404(request, design_id, "edit")
    form = DocumentForm(request.POST)
    current = Document.model_validate(design.document)
    if not form.is_valid():
        return _render_design(request, design, current, form, status=400)
    try:
        data = codec.parse_text(form.cleaned_data["document"], "yaml")
        # As the editor's Save: a document with problems is kept as a draft revision.
        revision = services.save_revision(
            design,
            author=request.user,
            data=data,
            message=form.cleaned_data["message"],
            draft=True,
        )
    except InvalidDesign as error:
        return _render_design(request, design, current, form, error.problems, status=422)
    if revision.draft:
        count = len(services.problems_of(revision))
        messages.warning(
            request,
            f"Saved revision {revision.number} as a draft: it has {count} "
            f"problem{'s' if count != 1 else ''} and cannot be deployed until they are fixed.",
        )
    else:
        messages.success(request, f"Saved revision {revision.number}.")
    return redirect("design", design_id=design.pk)


@login_required
@require_POST
def delete_design(request: SignedInRequest, design_id: int) -> HttpResponse:
    design = design_or_404(request, design_id, "own")
    try:
        services.delete_design(design, actor=request.user)
    except LabsActive as error:
        messages.error(request, str(error))
        return redirect("design", design_id=design.pk)
    messages.success(request, f"Deleted {design.name}.")
    return redirect("dashboard")


@login_required
def revision_detail(request: SignedInRequest, design_id: int, number: int) -> HttpResponse:
    design = design_or_404(request, design_id)
    revision = design.revisions.select_related("author").filter(number=number).first()
    if revision is None:
        raise Http404("no such revision")
    document = Document.model_validate(revision.document)
    return render(
        request,
        "editor/revision.html",
        {
            "design": design,
            "revision": revision,
            "document": document,
            "preview": _preview(document),
            "yaml": codec.dump(document, "yaml"),
        },
    )


@login_required
def export_design(request: SignedInRequest, design_id: int, text_format: str) -> HttpResponse:
    design = design_or_404(request, design_id)
    if text_format not in EXPORT_TYPES:
        raise Http404("unknown export format")
    document = Document.model_validate(design.document)
    if text_format in SCRIPTED and design.current is not None and design.current.draft:
        message = draft_refusal(design.current, f"exported as {SCRIPTED[text_format]}")
        return render(
            request,
            "editor/problem.html",
            {"heading": "Cannot export", "message": message},
            status=422,
        )
    if text_format == "sh":
        try:
            content = lab.shell_script(document)
        except InvalidDesign as error:  # saved before a rule it now breaks was added
            message = f"The saved revision no longer passes validation: {error}"
            return render(
                request,
                "editor/problem.html",
                {"heading": "Cannot export", "message": message},
                status=422,
            )
    elif text_format == "clab.yml":
        content = containerlab.write(document)
    else:
        content = codec.dump(document, text_format)  # type: ignore[arg-type]
    response = HttpResponse(content, content_type=EXPORT_TYPES[text_format])
    response["Content-Disposition"] = f'attachment; filename="{design.name}.{text_format}"'
    return response


@login_required
def example_detail(request: SignedInRequest, slug: str) -> HttpResponse:
    item = example(slug)
    if item is None:
        raise Http404("no such example")
    return render(
        request,
        "editor/example.html",
        {
            "example": item,
            "document": item.design,
            "preview": _preview(item.design),
            "yaml": codec.dump(item.design, "yaml"),
        },
    )


@login_required
@require_POST
def copy_example(request: SignedInRequest, slug: str) -> HttpResponse:
    item = example(slug)
    if item is None:
        raise Http404("no such example")
    design = services.copy_design(
        owner=request.user, document=item.design, message=f"copied from example {item.slug}"
    )
    messages.success(request, f"{design.name} is your own copy of the example.")
    return redirect("design", design_id=design.pk)
