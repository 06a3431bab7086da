"""Import over HTTP: ``POST /api/import`` takes a file's text in any format netlab
reads (a netlab/v1 document, a containerlab topology, a command script) and answers the
design made, or with ``dry_run`` the document it would make, with the report of what was not
translated. The editor's Import and Paste commands preview through it."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema, Status
from pydantic import Field

from editor import services
from editor.api_common import DesignOut, ErrorOut, design_out
from editor.permissions import SignedInRequest
from netlab.core import interop, validation
from netlab.core.interop import script

router = Router()


class ImportIn(Schema):
    text: str = Field(description="the file's text")
    filename: str = Field(
        default="pasted.sh",
        min_length=1,
        max_length=255,
        description="the file's name: names the design when its text does not",
    )
    message: str = Field(default="", max_length=500, description="revision message")
    dry_run: bool = Field(default=False, description="answer the document; save nothing")
    onto: dict[str, Any] | None = Field(
        default=None,
        description="with dry_run, a command script is replayed onto this document (the "
        "editor's Paste commands) instead of into a new design",
    )


class NoteOut(Schema):
    line: int | None
    text: str
    reason: str
    node: str | None
    imported: bool
    message: str


class ImportOut(Schema):
    source: str
    notes: list[NoteOut]
    design: DesignOut | None = None
    document: dict[str, Any] | None = None


@router.post(
    "/import",
    response={200: ImportOut, 201: ImportOut, 400: ErrorOut, 422: ErrorOut},
    tags=["designs"],
)
def import_design(request: SignedInRequest, body: ImportIn) -> Status[dict[str, Any]]:
    """Create a design from a file's text, recognising its format by content; each item not
    translated is a note (``line``, ``text``, ``reason``, ``node``; ``imported`` for an item
    taken with an adjustment). A translated lab with problems is saved as a draft. With
    ``dry_run`` nothing is saved and the answer holds the ``document`` instead."""
    if body.dry_run:
        if body.onto is not None:
            onto = validation.parse(body.onto)  # its shape only: the editor's unsaved work
            translation = script.read(body.text, body.filename, onto)
        else:
            translation = interop.read(body.text, body.filename)
        notes = [note.as_dict() for note in translation.notes]
        return Status(
            200, {"source": translation.source, "notes": notes, "document": translation.data}
        )
    imported = services.import_document(
        owner=request.user, text=body.text, filename=body.filename, message=body.message
    )
    notes = [note.as_dict() for note in imported.notes]
    return Status(
        201, {"source": imported.source, "notes": notes, "design": design_out(imported.design)}
    )
