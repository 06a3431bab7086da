"""A lab's row outlives nothing it belongs to: deleting a design or a user is refused while
any of their labs is active (naming the labs) and removes their ended deployments; removing
a collaborator destroys their lab; whoever deployed a lab may always destroy it.

Every path is checked: services, the API, the pages, the admin and the command line. Labs
are rows written through ``editor.deployments`` (the worker is not needed to tell active
from ended); where one must run, the in-memory engine of the live tests runs it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from factories import client_of

from editor import deployments, services
from editor.consumers import _request_change
from editor.models import Collaborator, Deployment, DeploymentStep, Design
from editor.permissions import DesignNotFound

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "channels"))

pytestmark = pytest.mark.django_db

State = Deployment.State


@pytest.fixture(autouse=True)
def fake_engine(settings: Any) -> None:
    """Deployments that run go through the in-memory engine: nothing touches the kernel."""
    settings.NETLAB_ENGINE = "live_fake_engine"


def lab(design: Design, user: Any, state: str = State.RUNNING) -> Deployment:
    """A deployment of ``design`` by ``user`` in ``state``, with a recorded step."""
    deployment = deployments.request_deploy(design, actor=user)
    Deployment.objects.filter(pk=deployment.pk).update(state=state)
    DeploymentStep.objects.create(  # noqa: S604 - a step's shell text, nothing runs it
        deployment=deployment, index=1, total=1, description="create", shell="ip netns add x"
    )
    deployment.refresh_from_db()
    return deployment


def run_worker_once() -> None:
    """Claim and carry out every pending deploy and destroy, as the worker does."""
    pending = Deployment.objects.filter(state__in=[State.QUEUED, State.DESTROYING], worker="")
    for deployment in pending:
        work = deployments.claim(deployment, worker="test-worker")
        if work is not None:
            deployments.run_claimed(deployment, work)


# -- deleting a design ----------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.STOPPED, State.FAILED])
def test_a_design_whose_labs_ended_is_deleted_with_them(make_design, owner, state):
    """Ended deployments (and their steps) go with the design: no ProtectedError."""
    design = make_design("lab")
    lab(design, owner, state)
    services.delete_design(design, actor=owner)
    assert not Design.objects.filter(pk=design.pk).exists()
    assert Deployment.objects.count() == 0
    assert DeploymentStep.objects.count() == 0


@pytest.mark.parametrize("state", list(Deployment.ACTIVE_STATES))
def test_a_design_with_an_active_lab_is_not_deleted(shared, people, state):
    """Anyone's active lab of the design refuses the delete, named; nothing is deleted."""
    design = shared("private")
    ended = lab(design, people["owner"], State.STOPPED)
    active = lab(design, people["editor"], state)
    with pytest.raises(deployments.LabsActive) as refused:
        services.delete_design(design, actor=people["owner"])
    message = str(refused.value)
    assert active.tag in message
    assert "eddie" in message
    assert state in message
    assert "destroy it first" in message
    assert ended.tag not in message
    assert Design.objects.filter(pk=design.pk).exists()
    assert Deployment.objects.count() == 2


def test_api_delete_of_a_design_with_an_active_lab_is_409(make_design, owner, token_client):
    """DELETE answers 409 naming the lab; once the lab is destroyed, 204."""
    design = make_design("lab")
    running = lab(design, owner)
    response = token_client.delete(f"/api/designs/{design.pk}")
    assert response.status_code == 409
    assert running.tag in response.json()["detail"]
    assert Design.objects.filter(pk=design.pk).exists()

    deployments.request_destroy(running, actor=owner)
    run_worker_once()
    assert token_client.delete(f"/api/designs/{design.pk}").status_code == 204
    assert not Design.objects.filter(pk=design.pk).exists()


def test_page_delete_of_a_design_with_an_active_lab_says_why(make_design, owner):
    """The delete button goes back to the design with a message naming the lab."""
    design = make_design("lab")
    running = lab(design, owner)
    client = client_of(owner)
    response = client.post(f"/designs/{design.pk}/delete", follow=True)
    assert response.redirect_chain == [(f"/designs/{design.pk}/", 302)]
    assert running.tag in response.content.decode()
    assert "cannot be deleted" in response.content.decode()
    assert Design.objects.filter(pk=design.pk).exists()


def test_page_delete_of_a_design_that_ran_once(make_design, owner):
    """A design deployed and destroyed before is deleted from its page like any other."""
    design = make_design("lab")
    lab(design, owner, State.STOPPED)
    response = client_of(owner).post(f"/designs/{design.pk}/delete", follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert not Design.objects.filter(pk=design.pk).exists()


# -- deleting a user ------------------------------------------------------------------------


def test_a_user_with_an_active_lab_is_not_deleted(shared, people):
    """A lab the user deployed on someone else's design refuses their deletion."""
    design = shared("private")
    running = lab(design, people["editor"])
    with pytest.raises(deployments.LabsActive, match=running.tag):
        services.delete_user(people["editor"], actor=people["owner"])
    assert get_user_model().objects.filter(pk=people["editor"].pk).exists()


def test_a_user_whose_design_has_anyones_active_lab_is_not_deleted(shared, people):
    """Deleting the owner would delete the design under the editor's running lab."""
    design = shared("private")
    running = lab(design, people["editor"])
    with pytest.raises(deployments.LabsActive, match=running.tag):
        services.delete_user(people["owner"], actor=people["owner"])


def test_a_user_whose_labs_ended_is_deleted_with_them(shared, people):
    """The user, their designs, and every ended deployment of either go."""
    design = shared("private")
    lab(design, people["editor"], State.STOPPED)
    lab(design, people["owner"], State.FAILED)
    services.delete_user(people["owner"], actor=people["owner"])
    assert not Design.objects.filter(pk=design.pk).exists()
    assert Deployment.objects.count() == 0


# -- the admin ------------------------------------------------------------------------------


def test_admin_design_delete_with_an_active_lab_is_refused_naming_it(admin_client, make_design):
    """The confirmation page names the lab as what blocks the deletion; POST deletes nothing."""
    design = make_design("lab")
    running = lab(design, design.owner)
    url = f"/admin/editor/design/{design.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "protected related objects" in page.content.decode()
    assert running.tag in page.content.decode()
    assert admin_client.post(url, {"post": "yes"}).status_code == 200
    assert Design.objects.filter(pk=design.pk).exists()


def test_admin_design_delete_of_a_design_that_ran_once(admin_client, make_design):
    """A stopped deployment does not block the admin (it was a ProtectedError before)."""
    design = make_design("lab")
    lab(design, design.owner, State.STOPPED)
    response = admin_client.post(f"/admin/editor/design/{design.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Design.objects.filter(pk=design.pk).exists()
    assert Deployment.objects.count() == 0


@pytest.mark.parametrize("active", [True, False])
def test_admin_user_delete_follows_the_same_rule(admin_client, owner, make_design, active):
    """A user with an active lab is not deleted (the lab is named); with ended ones, is."""
    design = make_design("lab")
    deployment = lab(design, owner, State.RUNNING if active else State.STOPPED)
    url = f"/admin/auth/user/{owner.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert ("protected related objects" in html) is active
    if active:
        assert deployment.tag in html
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == (200 if active else 302)
    assert get_user_model().objects.filter(pk=owner.pk).exists() is active


def test_admin_bulk_delete_of_users_with_labs(admin_client, owner, stranger, make_design):
    """The "delete selected" action refuses the whole batch while one has an active lab."""
    running = lab(make_design("lab"), owner)
    lab(make_design("other", owner=stranger), stranger, State.STOPPED)
    data = {"action": "delete_selected", "_selected_action": [owner.pk, stranger.pk]}
    page = admin_client.post("/admin/auth/user/", data)
    assert page.status_code == 200
    assert running.tag in page.content.decode()
    admin_client.post("/admin/auth/user/", {**data, "post": "yes"})
    assert get_user_model().objects.filter(pk__in=[owner.pk, stranger.pk]).count() == 2


# -- collaborators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "after"),
    [
        (State.RUNNING, State.DESTROYING),  # the worker destroys it
        (State.FAILED, State.DESTROYING),  # a failed lab may hold objects: destroyed too
        (State.QUEUED, State.STOPPED),  # never started: cancelled
    ],
)
def test_removing_a_collaborator_destroys_their_lab(shared, people, state, after):
    """Their lab is asked to go through the normal path; the owner's lab stays."""
    design = shared("private")
    theirs = lab(design, people["editor"], state)
    owners = lab(design, people["owner"])
    services.remove_collaborator(design, actor=people["owner"], user=people["editor"])
    theirs.refresh_from_db()
    owners.refresh_from_db()
    assert theirs.state == after
    assert owners.state == State.RUNNING
    run_worker_once()
    theirs.refresh_from_db()
    assert theirs.state == State.STOPPED


def test_a_collaborator_removed_while_their_lab_deploys_loses_it_once_built(shared, people):
    """The destroy request has nothing to act on mid-deploy: the deploy's end sees it."""
    design = shared("private")
    deployment = deployments.request_deploy(design, actor=people["editor"])
    assert deployments.claim(deployment, worker="test-worker") == "deploy"
    services.remove_collaborator(design, actor=people["owner"], user=people["editor"])
    deployments.run_claimed(deployment, "deploy")
    assert deployment.state == State.DESTROYING
    run_worker_once()
    deployment.refresh_from_db()
    assert deployment.state == State.STOPPED


def test_a_collaborator_who_can_no_longer_edit_still_destroys_their_own_lab(shared, people):
    """Edit → view: they keep their lab and may destroy it, but not deploy again."""
    design = shared("private")
    editor = people["editor"]
    theirs = lab(design, editor)
    services.set_collaborator(design, actor=people["owner"], user=editor, role="view")
    assert _request_change(editor, design.pk, "destroy").state == State.DESTROYING
    with pytest.raises(DesignNotFound):
        _request_change(editor, design.pk, "deploy")
    theirs.refresh_from_db()
    assert theirs.state == State.DESTROYING


def test_a_reader_without_a_lab_still_cannot_destroy(shared, people):
    """The destroy right comes from one's own active lab, not from reading the design."""
    design = shared("public")
    lab(design, people["owner"])
    with pytest.raises(DesignNotFound):
        _request_change(people["stranger"], design.pk, "destroy")
    assert Collaborator.objects.filter(design=design).count() == 2


# -- the command line -----------------------------------------------------------------------


def test_cli_destroy_names_other_users_labs_and_destroys_one_by_user(shared, people):
    """``destroy DESIGN`` with only a collaborator's lab says whose, and ``--user`` does it."""
    design = shared("private")
    theirs = lab(design, people["editor"])
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("netlab", "destroy", str(design.pk), stdout=out)
    assert theirs.tag in str(refused.value)
    assert "--user eddie" in str(refused.value)
    call_command("netlab", "destroy", str(design.pk), "--user", "eddie", stdout=out)
    theirs.refresh_from_db()
    assert theirs.state == State.STOPPED
    assert "destroyed" in out.getvalue()
    services.delete_design(design, actor=people["owner"])
    assert not Design.objects.filter(pk=design.pk).exists()


def test_cli_destroy_exits_non_zero_through_manage_py_when_others_hold_labs(shared, people):
    """The refusal is a CommandError: ``manage.py`` prints it and exits non-zero."""
    design = shared("private")
    lab(design, people["editor"])
    with pytest.raises(CommandError):
        call_command("netlab", "destroy", design.name)
