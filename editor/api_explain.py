"""The explainer over HTTP: ``POST /api/designs/{id}/explain`` (netlab.core.explain)."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Router, Schema, Status
from pydantic import Field

from editor import explaining, permissions
from editor.api_common import ErrorOut
from editor.params import DesignId
from editor.permissions import SignedInRequest

router = Router()


class ExplainIn(Schema):
    source: str = Field(min_length=1, max_length=64)
    target: str = Field(min_length=1, max_length=64)
    protocol: Literal["icmp", "tcp"] = "icmp"
    port: int | None = Field(default=None, ge=1, le=65535)


class HopOut(Schema):
    node: str
    in_: str | None = Field(alias="in")
    out: str | None
    route: str | None
    next_hop: str | None
    nat: str | None
    note: str
    ok: bool
    destination: str | None = None


class FixOut(Schema):
    sentence: str
    change: dict[str, Any]


class ExplanationOut(Schema):
    source: str
    target: str
    address: str
    protocol: str
    port: int | None
    outcome: str
    reason: str
    hops: list[HopOut]
    reply: list[HopOut] | None
    fixes: list[FixOut]


@router.post(
    "/designs/{design_id}/explain",
    response={200: ExplanationOut, 404: ErrorOut, 422: ErrorOut},
    by_alias=True,
    tags=["designs"],
)
def explain_path(
    request: SignedInRequest, design_id: DesignId, body: ExplainIn
) -> dict[str, Any] | Status[dict[str, Any]]:
    """Why a packet from node ``source`` to ``target`` (an address, or a node: its first
    address) arrives or not, hop by hop, with the reply's way back and the fixes on offer;
    predicted from the design's latest saved revision (no lab needed)."""
    design = permissions.access_design(request.user, design_id)
    try:
        return explaining.explain(
            design, body.source, body.target, protocol=body.protocol, port=body.port
        )
    except explaining.CannotExplain as error:
        return Status(422, {"detail": str(error)})


class CellOut(Schema):
    source: str
    address: str
    node: str
    reachable: bool
    outcome: str


@router.get(
    "/designs/{design_id}/explain/matrix",
    response={200: list[CellOut], 404: ErrorOut, 422: ErrorOut},
    tags=["designs"],
)
def predicted_matrix(
    request: SignedInRequest, design_id: DesignId
) -> list[dict[str, Any]] | Status[dict[str, Any]]:
    """The predicted ping-all of the latest saved revision: a cell per namespace node (the
    host included) and address of another node, reachable or not, with the outcome."""
    design = permissions.access_design(request.user, design_id)
    try:
        return explaining.matrix(design)
    except explaining.CannotExplain as error:
        return Status(422, {"detail": str(error)})
