"""Persistence of designs and their history. No validation or kernel logic lives here:
documents are checked by ``netlab.core`` and written by ``editor.services``."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models


class Design(models.Model):
    """A user's lab design: a name, and a chain of immutable revisions of its document.

    ``name`` and ``title`` repeat those of the current revision's document so that lists
    and look-ups need not read documents. Who else may see or change it is decided in
    ``editor.permissions`` from ``visibility``, the share link and the collaborators.
    """

    class Visibility(models.TextChoices):
        PRIVATE = "private", "private"
        LINK = "link", "anyone with the link"
        PUBLIC = "public", "public"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="designs"
    )
    name = models.SlugField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    current = models.OneToOneField(
        "Revision", on_delete=models.SET_NULL, related_name="+", null=True, editable=False
    )
    node_count = models.PositiveIntegerField(default=0)
    link_count = models.PositiveIntegerField(default=0)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    share_token = models.CharField(
        max_length=43,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="the secret of the share link; none when there is no link",
    )
    share_anonymous = models.BooleanField(
        default=False, help_text="the share link works without logging in"
    )
    forked_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="forks"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="design_name_unique_per_owner")
        ]

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def document(self) -> dict[str, Any]:
        """The current document, as stored: well-shaped, and valid unless the current
        revision is a draft."""
        return self.current.document if self.current else {}


class Revision(models.Model):
    """One saved state of a design's document. Never changed once written.

    A *draft* was saved with problems (its document is well-shaped but breaks rules of
    meaning: a bad address, a gateway off-link...): kept so half-done work is not lost,
    never deployed nor exported as a script until a later revision fixes it.
    """

    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    draft = models.BooleanField(
        default=False, help_text="saved with problems: not deployable until a valid revision"
    )
    created = models.DateTimeField(auto_now_add=True)
    # The gallery's picture of this revision (SVG), drawn once: a revision never changes.
    picture = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["design", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["design", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.design} r{self.number}"


class Collaborator(models.Model):
    """Another user the owner lets view, or edit (save and deploy), a design."""

    class Role(models.TextChoices):
        VIEW = "view"
        EDIT = "edit"

    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations"
    )
    role = models.CharField(max_length=4, choices=Role.choices, default=Role.VIEW)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["design", "user"]
        constraints = [
            models.UniqueConstraint(fields=["design", "user"], name="one_role_per_collaborator")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}s {self.design}"


class ApiToken(models.Model):
    """A bearer token for scripts. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="first characters, to tell tokens apart"
    )
    name = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class Site(models.Model):
    """A machine whose worker runs labs (``netlab worker --site NAME --underlay ADDRESS``).

    The worker registers its site when it starts and refreshes ``last_seen`` and its counts
    on every poll; a site not seen for ``NETLAB_SITE_TIMEOUT`` seconds is down. Labs are
    placed on a live site that is not draining (``editor.deployments.sites``).
    """

    name = models.SlugField(max_length=50, unique=True, help_text="the worker's --site")
    underlay = models.GenericIPAddressField(help_text="the machine's address other sites reach")
    max_labs = models.PositiveIntegerField(default=0, help_text="0: no limit")
    max_namespaces = models.PositiveIntegerField(default=0, help_text="0: no limit")
    labs = models.PositiveIntegerField(default=0, help_text="active labs, as last reported")
    namespaces = models.PositiveIntegerField(default=0, help_text="their namespaces")
    draining = models.BooleanField(default=False, help_text="takes no new labs")
    last_seen = models.DateTimeField()
    # {capability name: bool} (netlab.core.features.CAPABILITIES), probed by the worker when
    # it starts; empty until it has: the web process cannot probe a kernel.
    capabilities = models.JSONField(
        default=dict, blank=True, help_text="what its kernel has, as its worker probed it"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Deployment(models.Model):
    """One run of a design's revision on the kernel: its own namespaces, named by ``tag``.

    The row is the record of the lab: it moves through :class:`State` as the worker applies
    and destroys the plan, and keeps which kernel namespace each node became.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        DEPLOYING = "deploying"
        RUNNING = "running"
        APPLYING = "applying"  # running, being changed in place to ``applying_revision``
        FAILED = "failed"
        DESTROYING = "destroying"
        STOPPED = "stopped"
        UNKNOWN = "unknown"  # its site is down: the lab may or may not still run

    ACTIVE_STATES = (
        State.QUEUED,
        State.DEPLOYING,
        State.RUNNING,
        State.APPLYING,
        State.DESTROYING,
        State.UNKNOWN,
    )

    # PROTECT: a lab's row never goes behind the kernel's back. Deleting a design or a user
    # goes through services, which refuse while a lab is active and remove ended rows first.
    design = models.ForeignKey(Design, on_delete=models.PROTECT, related_name="deployments")
    revision = models.ForeignKey(
        Revision, on_delete=models.CASCADE, related_name="+", help_text="the revision it runs"
    )
    applying_revision = models.ForeignKey(
        Revision,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="while applying: the revision the lab is being changed to",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deployments"
    )
    tag = models.CharField(max_length=6, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    host_mode = models.BooleanField(default=False, editable=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    namespaces = models.JSONField(default=dict, help_text="node id to kernel namespace name")
    record = models.JSONField(default=dict, help_text="what the engine reported when deployed")
    worker = models.CharField(
        max_length=100, blank=True, help_text="the worker doing the pending work, if any"
    )
    # Null: not placed, run by a worker without --site (the embedded layout, the CLI).
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="deployments"
    )
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            # One live lab per design and user: a second deploy is refused, not run twice.
            models.UniqueConstraint(
                fields=["design", "owner"],
                condition=models.Q(
                    state__in=[
                        "queued",
                        "deploying",
                        "running",
                        "applying",
                        "destroying",
                        "unknown",
                    ]
                ),
                name="one_active_deployment_per_design_and_owner",
            )
        ]
        # Each query the worker and the pages run reads only the rows it wants, however long
        # the history (tests/production/explain_queries.py shows the plans on PostgreSQL).
        indexes = [
            # A user's latest lab of a design (``deployments.latest``), ended ones included.
            models.Index(fields=["design", "owner", "-created"], name="deployment_latest"),
            # Every worker's poll: work waiting for a worker of its site (``claim_pending``),
            # oldest first.
            models.Index(
                fields=["site", "id"],
                condition=models.Q(state__in=["queued", "applying", "destroying"], worker=""),
                name="deployment_waiting",
            ),
            # ... and work a worker holds, which it takes back if that worker died.
            models.Index(
                fields=["id"],
                condition=models.Q(state__in=["deploying", "applying", "destroying"])
                & ~models.Q(worker=""),
                name="deployment_claimed",
            ),
            # A site's active labs: its counts, placement's load, a down site's running labs.
            models.Index(
                fields=["site", "id"],
                condition=models.Q(
                    state__in=[
                        "queued",
                        "deploying",
                        "running",
                        "applying",
                        "destroying",
                        "unknown",
                    ]
                ),
                name="deployment_site_active",
            ),
            # A site's lost labs, which its worker checks when it is back.
            models.Index(
                fields=["site", "id"],
                condition=models.Q(state="unknown"),
                name="deployment_unknown",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.design} {self.tag} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES


class SitePart(models.Model):
    """One site's part of a lab across sites (``netlab.core.sites.Part``): its nodes and its
    ends of the VXLAN tunnels, built and removed by that site's worker.

    The lab's row (its deployment) is driven by the worker of the lab's own site, which asks
    for the parts (``queued``, then ``destroying``) and waits for them
    (``editor.deployments.parts``); each site's worker claims its own parts, as it claims
    labs. A part moves through the deployment's states: queued, deploying, running or
    failed; destroying, stopped.
    """

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="parts")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="parts")
    part = models.JSONField(help_text="what the site builds: its nodes and tunnel ends")
    state = models.CharField(
        max_length=12, choices=Deployment.State.choices, default=Deployment.State.QUEUED
    )
    worker = models.CharField(max_length=100, blank=True, help_text="the worker doing its work")
    record = models.JSONField(default=dict, help_text="what the site's engine reported")
    error = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "site"], name="one_part_per_site")
        ]
        indexes = [
            # A site's poll: parts waiting for its worker.
            models.Index(
                fields=["site", "id"],
                condition=models.Q(state__in=["queued", "destroying"], worker=""),
                name="part_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deployment.tag} on {self.site} ({self.state})"


class DeploymentStep(models.Model):
    """A plan step as it ran: its shell equivalent, how long it took, and how it ended."""

    class Outcome(models.TextChoices):
        STARTED = "started"
        DONE = "done"
        FAILED = "failed"

    # Indexed by the two below, which start with it.
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    action = models.CharField(
        max_length=10, default="deploy", help_text="deploy, apply (a live change) or destroy"
    )
    index = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    description = models.CharField(max_length=300)
    shell = models.TextField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.STARTED)
    duration_ms = models.FloatField(null=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deployment", "pk"]
        indexes = [
            # A lab's step log, latest first (the live page reads the recent steps).
            models.Index(fields=["deployment", "id"], name="step_log"),
            # A step's end, written by its key (``steplog``'s UPDATE).
            models.Index(fields=["deployment", "action", "index"], name="step_key"),
        ]

    def __str__(self) -> str:
        return f"{self.deployment.tag} {self.action} {self.index}/{self.total}"
