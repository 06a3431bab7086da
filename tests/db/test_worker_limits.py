"""The worker checks the machine's limits again when it claims a deployment: two requests
that passed together, or a row the web process forged, never take the machine past them.

Rows are written through ``editor.deployments``; ``check_deploy`` is what the worker runs
on a claimed row before any kernel call.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from editor import deployments
from editor.models import Deployment

pytestmark = pytest.mark.django_db

State = Deployment.State


def claimed(design: Any, user: Any) -> Deployment:
    """A deployment of ``design`` by ``user``, requested and claimed (now deploying)."""
    deployment = deployments.request_deploy(design, actor=user)
    Deployment.objects.filter(pk=deployment.pk).update(state=State.DEPLOYING)
    deployment.refresh_from_db()
    return deployment


def test_two_requests_that_passed_together_do_not_both_deploy(
    settings: Any, owner: Any, make_design: Any
) -> None:
    """Each lab needs 3 namespaces (the host, red, blue): both were asked for while the
    limit was 6; by the claim of the second it is 5, and the first runs."""
    settings.NETLAB_MAX_NAMESPACES = 6
    other = get_user_model().objects.create_user("other", password="x")
    first = deployments.request_deploy(make_design("one"), actor=owner)
    second = deployments.request_deploy(make_design("two", owner=other), actor=other)
    settings.NETLAB_MAX_NAMESPACES = 5
    Deployment.objects.filter(pk=first.pk).update(state=State.RUNNING)
    second.refresh_from_db()
    Deployment.objects.filter(pk=second.pk).update(state=State.DEPLOYING)
    with pytest.raises(deployments.Untrusted, match="needs 3 namespaces and the machine has 2"):
        deployments.check_deploy(second)


def test_a_queued_row_is_not_counted_before_it_is_claimed(
    settings: Any, owner: Any, make_design: Any
) -> None:
    settings.NETLAB_MAX_NAMESPACES = 6
    other = get_user_model().objects.create_user("other", password="x")
    deployments.request_deploy(make_design("two", owner=other), actor=other)  # stays queued
    deployment = claimed(make_design("one"), owner)
    settings.NETLAB_MAX_NAMESPACES = 3
    assert deployments.check_deploy(deployment).name == "one"


def test_a_forged_row_over_the_node_limit_is_refused(
    settings: Any, owner: Any, make_design: Any
) -> None:
    deployment = claimed(make_design("one"), owner)
    settings.NETLAB_MAX_NODES = 2
    with pytest.raises(deployments.Untrusted, match="3 nodes, more than this machine allows"):
        deployments.check_deploy(deployment)


def test_a_second_host_mode_lab_is_refused(settings: Any, owner: Any, make_design: Any) -> None:
    settings.NETLAB_HOST_MODE = True
    first = claimed(make_design("one"), owner)
    second = claimed(make_design("two"), owner)
    Deployment.objects.filter(pk__in=[first.pk, second.pk]).update(host_mode=True)
    second.refresh_from_db()
    with pytest.raises(deployments.Untrusted, match="one deployment at a time"):
        deployments.check_deploy(second)


def test_a_revision_written_around_validation_is_refused_when_asked_for(
    owner: Any, make_design: Any
) -> None:
    """A current revision that does not validate (not a draft: written around netlab, or
    saved before a rule it breaks) is refused with a sentence when a deploy is asked for,
    before any row is written."""
    design = make_design("one")
    document = dict(design.current.document)
    document["nodes"] = [*document["nodes"], dict(document["nodes"][-1])]  # a duplicate id
    type(design.current).objects.filter(pk=design.current.pk).update(document=document)
    design.refresh_from_db()
    with pytest.raises(deployments.DeploymentRefused, match="is not a valid design"):
        deployments.request_deploy(design, actor=owner)
    assert not Deployment.objects.filter(design=design).exists()
