"""The worker's own checks of a deployment row, before any kernel call.

The row is written by the web process, which runs unprivileged and may be compromised:
before any kernel call the worker checks every privileged choice in it against its own
settings and netlab's own name rules, and fails the deployment if one does not hold.
"""

from __future__ import annotations

import re

from django.conf import settings

from editor.deployments.requests import document_of
from editor.models import Deployment
from netlab.core import names, validation
from netlab.core.document import Document
from netlab.core.plan import namespace_count

State = Deployment.State
NAMESPACE_NUMBER = re.compile(r"[0-9]{1,6}")


class Untrusted(Exception):
    """A deployment row asks for something this worker does not allow; nothing was touched."""


def _check_names(deployment: Deployment) -> None:
    """Check the row's tag, prefix and recorded namespace names against netlab's own rules."""
    check_names(deployment, deployment.namespaces)


def check_names(deployment: Deployment, recorded: object) -> list[str]:
    """Check the row's tag and prefix, and ``recorded`` (``{node: namespace}``, the row's or
    a part's) against netlab's own rules; return the namespace names. Raises
    :class:`Untrusted`."""
    if not names.TAG.fullmatch(deployment.tag):
        raise Untrusted(f"{deployment.tag!r} is not a deployment tag")
    if not names.PREFIX.fullmatch(deployment.prefix.rstrip("-") or "-"):
        raise Untrusted(f"{deployment.prefix!r} is not a namespace prefix")
    if not isinstance(recorded, dict):
        raise Untrusted("the recorded namespaces are not a mapping")
    own = f"{deployment.prefix}{deployment.tag}-"
    for node, netns in recorded.items():
        if netns is None:
            continue
        # A pattern per row would fill re's cache: a fixed one for the number after the tag.
        if not (
            isinstance(netns, str)
            and netns.startswith(own)
            and NAMESPACE_NUMBER.fullmatch(netns.removeprefix(own))
        ):
            raise Untrusted(f"{node}'s namespace {netns!r} is not one this deployment names")
    return [netns for netns in recorded.values() if netns]


def check_row(deployment: Deployment) -> None:
    """Check the row's tag, prefix and recorded namespace names: netlab's own, and this
    worker's prefix. Raises :class:`Untrusted`."""
    _check_names(deployment)
    if deployment.prefix != settings.NETLAB_NETNS_PREFIX:
        raise Untrusted(
            f"the namespace prefix {deployment.prefix!r} is not this worker's "
            f"({settings.NETLAB_NETNS_PREFIX!r})"
        )


def check_deploy(deployment: Deployment) -> Document:
    """Return the document to deploy once the row passes this worker's own checks.

    Raises :class:`Untrusted`: host mode this worker's settings do not allow, another prefix
    than this worker's, a tag, prefix or namespace name outside netlab's rules, or a document
    that does not validate.
    """
    if deployment.host_mode and not settings.NETLAB_HOST_MODE:
        raise Untrusted(
            "host mode is off on this worker (NETLAB_HOST_MODE): it deploys no lab into the "
            "machine's root namespace"
        )
    check_row(deployment)
    if deployment.namespaces:
        raise Untrusted("a deployment yet to run has no namespaces")
    try:
        document = validation.load(deployment.revision.document)
    except validation.InvalidDesign as error:
        raise Untrusted(f"the revision to deploy is not a valid design: {error}") from None
    _check_machine_limits(deployment, document)
    return document


def _check_machine_limits(deployment: Deployment, document: Document) -> None:
    """Check the machine-wide limits again, against the labs this side of a claim.

    The web process checked them when the deploy was requested, but two requests can pass
    together, and a row it writes is not to be believed: a queued row is counted when it is
    claimed.
    """
    claimed = Deployment.objects.filter(
        state__in=(State.DEPLOYING, State.RUNNING, State.DESTROYING)
    ).exclude(pk=deployment.pk)
    if len(document.nodes) > settings.NETLAB_MAX_NODES:
        raise Untrusted(
            f"the design has {len(document.nodes)} nodes, more than this machine allows "
            f"({settings.NETLAB_MAX_NODES})"
        )
    if deployment.host_mode and claimed.filter(host_mode=True).exists():
        raise Untrusted("host mode allows one deployment at a time on this machine")
    wanted = namespace_count(document)
    in_use = sum(
        namespace_count(document_of(other)) for other in claimed.select_related("revision")
    )
    if in_use + wanted > settings.NETLAB_MAX_NAMESPACES:
        raise Untrusted(
            f"this lab needs {wanted} namespaces and the machine has "
            f"{max(settings.NETLAB_MAX_NAMESPACES - in_use, 0)} left; try again later"
        )


def recorded_namespaces(deployment: Deployment) -> list[str]:
    """Return the row's namespace names, once they pass netlab's name rules (for destroy).

    The prefix may be an older setting of this server's: destroy still finds those labs; the
    engine removes only namespaces that carry the deployment's own mark. Raises
    :class:`Untrusted`.
    """
    _check_names(deployment)
    return [name for name in deployment.namespaces.values() if name]
