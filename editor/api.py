"""The JSON API under /api/ (django-ninja; OpenAPI at /api/docs, served locally).

Handlers parse, authorise through ``editor.permissions``, call ``editor.services`` and
render. Design documents are read from the raw body and checked by ``netlab.core`` so that
every problem comes back with its path, in one list, with status 422.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Schema, Status
from ninja.errors import ValidationError
from ninja.openapi.docs import Swagger

from editor import api_explain, api_import, api_sharing, openapi, permissions, services
from editor.api_common import (
    SIGNED_IN,
    DesignOut,
    DesignSummaryOut,
    ErrorOut,
    ProblemOut,
    WarningOut,
    design_out,
    summary_out,
)
from editor.deployments import LabsActive, capabilities
from editor.middleware import too_large_message
from editor.models import Revision
from editor.params import DesignId, RevisionNumber
from editor.permissions import SignedInRequest
from netlab.core import codec, validation
from netlab.core.document import json_schema
from netlab.core.validation import InvalidDesign, Problem


class LocalSwagger(Swagger):
    """Swagger UI from django-ninja's own files, served by this server, never from a CDN.

    django-ninja renders its local template only when "ninja" is an installed app (else a CDN
    page); netlab finds its templates and static files through settings instead, so commands
    that never serve the API do not import it.
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        auths = api.auth if isinstance(api.auth, list | tuple) else []
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": any(getattr(auth, "csrf", False) for auth in auths),
        }
        return render(request, self.template, context)


class NetlabAPI(NinjaAPI):
    """The API, whose published OpenAPI document also defines the design document's parts."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        openapi.add_document_schema(schema)
        return schema


api = NetlabAPI(
    title="netlab API",
    version="1",
    description="Designs, revisions and validation of netlab/v1 documents.",
    auth=SIGNED_IN,
    docs=LocalSwagger(),
    docs_url="/docs",
    urls_namespace="api",
)


class ValidationOut(Schema):
    valid: bool
    problems: list[ProblemOut]
    # Added with warnings: never part of ``valid``.
    warnings: list[WarningOut] = []


class RevisionSummaryOut(Schema):
    number: int
    author: str | None
    created: datetime
    message: str
    draft: bool


class RevisionOut(RevisionSummaryOut):
    document: dict[str, Any]


DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "a netlab/v1 design document",
        "content": {"application/json": {"schema": {"$ref": openapi.DOCUMENT_REF}}},
    }
}


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [problem.as_dict() for problem in problems]


def _document_body(request: HttpRequest) -> Any:
    """Return the JSON body; raise :class:`InvalidDesign` if it cannot be read.

    An empty body reads as JSON null, which validation then refuses as a document.
    """
    return codec.parse_text(request.body or b"null", "json")


def _revision_out(revision: Revision, *, with_document: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": revision.number,
        "author": revision.author.get_username() if revision.author else None,
        "created": revision.created,
        "message": revision.message,
        "draft": revision.draft,
    }
    if with_document:
        data["document"] = revision.document
    return data


@api.exception_handler(InvalidDesign)
def invalid_design(request: HttpRequest, error: InvalidDesign) -> HttpResponse:
    # A body that cannot be read at all is a bad request; a document that reads but is not
    # a valid design is unprocessable.
    return api.create_response(
        request,
        {"detail": "the design document is invalid", "problems": _problems(error.problems)},
        status=400 if isinstance(error, codec.UnreadableDocument) else 422,
    )


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    # django-ninja's own answer is 422 with its error list as ``detail``; answer in the
    # shape every other refusal has. A JSON body that reads but does not fit its schema is
    # unprocessable, like an invalid document; a query parameter that does not read ("²",
    # a number past the database's range) is a bad request; a path no row can have (an id
    # of 30 digits, -1) names nothing, so it is not found.
    places = {tuple(item.get("loc", ()))[:1] for item in error.errors}
    if ("body",) in places:
        status, detail = 422, "the request body is invalid"
    elif ("path",) not in places or len(places) > 1:
        status, detail = 400, "the request is invalid"
    else:
        status, detail = 404, "not found"
    problems = [
        Problem(
            ".".join(str(part) for part in item.get("loc", ())), str(item.get("msg", "invalid"))
        ).as_dict()
        for item in error.errors
    ]
    return api.create_response(request, {"detail": detail, "problems": problems}, status=status)


@api.exception_handler(RequestDataTooBig)
def request_too_large(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": too_large_message(), "problems": []}, status=413)


@api.exception_handler(permissions.DesignNotFound)
def design_not_found(request: HttpRequest, error: permissions.DesignNotFound) -> HttpResponse:
    return api.create_response(request, {"detail": "no such design"}, status=404)


@api.get("/designs", response=list[DesignSummaryOut], tags=["designs"])
def list_designs(request: SignedInRequest) -> list[dict[str, Any]]:
    """The designs you may open, most recently changed first."""
    designs = permissions.designs_listed_for(request.user).select_related("owner")
    return [summary_out(design) for design in designs]


@api.post(
    "/designs",
    response={201: DesignOut, 400: ErrorOut, 422: ErrorOut},
    openapi_extra=DOCUMENT_BODY,
    tags=["designs"],
)
def create_design(
    request: SignedInRequest, message: str = "", draft: bool = False
) -> Status[dict[str, Any]]:
    """Create a design from a netlab/v1 document (its ``name`` names the design).

    With ``draft``, a document with problems (but a valid name) is kept as a design whose
    first revision is a draft, as ``PUT`` does.
    """
    design = services.create_design(
        owner=request.user, data=_document_body(request), message=message, draft=draft
    )
    return Status(201, design_out(design))


@api.get("/designs/{design_id}", response={200: DesignOut, 404: ErrorOut}, tags=["designs"])
def read_design(request: SignedInRequest, design_id: DesignId) -> dict[str, Any]:
    """A design and its current document."""
    return design_out(permissions.access_design(request.user, design_id))


@api.put(
    "/designs/{design_id}",
    response={200: DesignOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    openapi_extra=DOCUMENT_BODY,
    tags=["designs"],
)
def update_design(
    request: SignedInRequest, design_id: DesignId, message: str = "", draft: bool = False
) -> dict[str, Any]:
    """Save a document as a new revision of the design.

    A document with problems is refused (422, every problem listed), unless ``draft`` is
    true: then it is saved as a *draft* revision (``"draft": true`` and its ``problems`` in
    the answer), which cannot be deployed until a later revision is valid. A draft must
    still read as a netlab/v1 document (its shape) and stay within the server's quotas. A
    valid document is an ordinary revision, ``draft`` or not.
    """
    design = permissions.access_design_for_edit(request.user, design_id)
    services.save_revision(
        design, author=request.user, data=_document_body(request), message=message, draft=draft
    )
    return design_out(design)


@api.delete(
    "/designs/{design_id}",
    response={204: None, 404: ErrorOut, 409: ErrorOut},
    tags=["designs"],
)
def delete_design(request: SignedInRequest, design_id: DesignId) -> Status[Any]:
    """Delete a design, its history and its ended deployments.

    Refused (409, naming them) while any lab of the design is active: destroy them first.
    """
    design = permissions.access_design_as_owner(request.user, design_id)
    try:
        services.delete_design(design, actor=request.user)
    except LabsActive as error:
        return Status(409, {"detail": str(error)})
    return Status(204, None)


@api.get(
    "/designs/{design_id}/revisions",
    response={200: list[RevisionSummaryOut], 404: ErrorOut},
    tags=["revisions"],
)
def list_revisions(request: SignedInRequest, design_id: DesignId) -> list[dict[str, Any]]:
    """The design's history, newest first."""
    design = permissions.access_design(request.user, design_id)
    revisions = design.revisions.select_related("author")
    return [_revision_out(revision, with_document=False) for revision in revisions]


@api.get(
    "/designs/{design_id}/revisions/{number}",
    response={200: RevisionOut, 404: ErrorOut},
    tags=["revisions"],
)
def read_revision(request: SignedInRequest, design_id: DesignId, number: RevisionNumber) -> Any:
    """One revision, with its document."""
    design = permissions.access_design(request.user, design_id)
    revision = design.revisions.select_related("author").filter(number=number).first()
    if revision is None:
        return Status(404, {"detail": "no such revision"})
    return _revision_out(revision, with_document=True)


@api.post(
    "/validate",
    response={200: ValidationOut, 400: ErrorOut},
    openapi_extra=DOCUMENT_BODY,
    tags=["documents"],
)
def validate_document(request: SignedInRequest, design: int | None = None) -> dict[str, Any]:
    """Check a document without saving it; answers the list of problems (empty when valid)
    and of warnings, which refuse nothing: MTUs that disagree, and what the kernel of the
    site the lab would run on lacks (the site of the user's lab of ``design``, else where a
    new lab would go; none when no site has published its kernel's capabilities)."""
    data = _document_body(request)
    problems = validation.problems_of(data)
    warnings = capabilities.warnings_of(data, design_id=design, user_id=request.user.pk)
    return {"valid": not problems, "problems": _problems(problems), "warnings": _problems(warnings)}


@api.get("/schema", auth=None, tags=["documents"])
def document_schema(request: HttpRequest) -> dict[str, Any]:
    """The JSON Schema of a netlab/v1 document."""
    return json_schema()


# Sharing, forks and history: their own router, mounted after the operations above so the
# published document keeps its order.
api.add_router("", api_sharing.router)
api.add_router("", api_explain.router)
api.add_router("", api_import.router)
