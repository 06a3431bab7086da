"""Lessons: a design's revisions, in order, taken one step at a time on a running lab.

A lesson is not stored: its steps are a design's revisions 1..N (the lesson page's URL says
N). Stepping puts the next step's document on the canvas, saves it and changes the running
lab to it in place (the page does it, through the editor and the websocket's ``apply``), so
every step is a revision like any other. The tutorial lesson is a design made here from the
four examples, one revision each.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from editor import services
from editor.examples import examples
from editor.models import Design

TUTORIAL_NAME = "tutorial-lesson"


def start_tutorial(owner: User) -> Design:
    """Create ``owner``'s tutorial lesson: the examples in order, one revision each, under a
    free name (``tutorial-lesson``, then ``-2``...). Returns the design."""
    steps = list(examples())
    name = services.free_name(owner, TUTORIAL_NAME)
    with transaction.atomic():
        first, *rest = steps
        design = services.create_design(
            owner=owner, data={**first.design.to_data(), "name": name}, message=first.design.title
        )
        for step in rest:
            services.save_revision(
                design,
                author=owner,
                data={**step.design.to_data(), "name": name},
                message=step.design.title,
            )
    return design


def steps_of(design: Design, count: int) -> list[dict[str, Any]]:
    """The first ``count`` revisions of ``design`` as lesson steps: number, the revision's
    message, the document's title and description (the step's explanation), the document."""
    revisions = design.revisions.filter(number__lte=count).order_by("number")
    return [
        {
            "number": revision.number,
            "message": revision.message,
            "title": revision.document.get("title", ""),
            "description": revision.document.get("description", ""),
            "document": revision.document,
        }
        for revision in revisions
    ]
