"""Deployments: every state change of a lab goes through these functions.

A deployment is a row that moves through its states (queued, deploying, running, applying
(a live change, :mod:`.changes`), failed, destroying, stopped). Asking (``request_*``,
:mod:`.requests`) only writes the row; running (``run_*``, :mod:`.runs`) claims it
atomically, so that whoever claims first (the worker, or the command line) does the work
once, drives the engine and records each step, after the worker's own checks of the row
(:mod:`.trust`), recording the steps in bursts (:mod:`.steplog`). The database is the
record; ``on_steps`` and ``on_state`` only let a caller show progress.
"""

from editor.deployments.changes import check_apply, doomed_namespaces, preview, request_apply
from editor.deployments.parts import claim_parts, has_parts, node_sites, run_part
from editor.deployments.requests import (
    DESTROYABLE_STATES,
    PLACE,
    DeploymentRefused,
    LabsActive,
    State,
    describe,
    destroyable,
    document_of,
    draft_refusal,
    latest,
    live_tags,
    may_keep,
    namespace_of,
    remove_ended,
    request_deploy,
    request_destroy,
    resolve_target,
)
from editor.deployments.runs import (
    StateCallback,
    claim,
    claim_pending,
    load_engine,
    recover_abandoned,
    run_apply,
    run_claimed,
    run_deploy,
    run_destroy,
    worker_gone,
    worker_id,
)
from editor.deployments.steplog import DeploymentStepsCallback, Step, StepRecord
from editor.deployments.trust import Untrusted, check_deploy, recorded_namespaces
from netlab.core.document import Document
from netlab.core.plan import namespace_count
from netlab.core.targets import node_addresses

__all__ = [
    "DESTROYABLE_STATES",
    "PLACE",
    "DeploymentRefused",
    "DeploymentStepsCallback",
    "Document",
    "LabsActive",
    "State",
    "StateCallback",
    "Step",
    "StepRecord",
    "Untrusted",
    "check_apply",
    "check_deploy",
    "claim",
    "claim_parts",
    "claim_pending",
    "describe",
    "destroyable",
    "document_of",
    "doomed_namespaces",
    "draft_refusal",
    "has_parts",
    "latest",
    "live_tags",
    "load_engine",
    "may_keep",
    "namespace_count",
    "namespace_of",
    "node_addresses",
    "node_sites",
    "preview",
    "recorded_namespaces",
    "recover_abandoned",
    "remove_ended",
    "request_apply",
    "request_deploy",
    "request_destroy",
    "resolve_target",
    "run_apply",
    "run_claimed",
    "run_deploy",
    "run_destroy",
    "run_part",
    "worker_gone",
    "worker_id",
]
