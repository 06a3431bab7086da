"""Sites: the machines whose workers run labs, and where a new lab goes.

A worker started with ``--site NAME`` registers its site (:func:`register`) and refreshes
it at its poll, every tenth of the timeout (:func:`refresh`); a site not seen for
``NETLAB_SITE_TIMEOUT`` seconds is down. A lab is placed when it is requested
(:func:`place`): on the least loaded live site that is not draining nor full, or on none
when no site is registered (the embedded layout: a worker without ``--site`` runs it).
The labs of a site that went down are marked ``unknown`` (:func:`mark_lost`), and its
worker checks them against their design when it is back (:func:`recover_unknown`).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db.models import Count
from django.utils import timezone

from editor.deployments.requests import DeploymentRefused, document_of
from editor.deployments.runs import StateCallback, _set_state, load_engine
from editor.models import Deployment, Site
from netlab.core.engine import DeploymentRecord, Engine

logger = logging.getLogger("netlab.deployments")

State = Deployment.State
SITE_NAME_LENGTH = 50


class BadSite(ValueError):
    """A site name or underlay address that cannot be used; the message says why."""


def default_name() -> str:
    """This machine's site name: its host name's first label, lower case."""
    return socket.gethostname().split(".")[0].lower()


def check_name(name: str) -> str:
    """Return ``name`` if it can name a site (and a channel): a slug of at most 50 characters."""
    try:
        validate_slug(name)
    except ValidationError:
        raise BadSite(
            f"site name {name!r} is not a slug: use letters, digits, '-' and '_' only"
        ) from None
    if len(name) > SITE_NAME_LENGTH:
        raise BadSite(f"site name {name!r} is longer than {SITE_NAME_LENGTH} characters")
    return name


def check_underlay(address: str) -> str:
    """Return ``address`` as an IP address's text, or raise :class:`BadSite`."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise BadSite(f"underlay {address!r} is not an IP address (IPv4 or IPv6)") from None


def deadline() -> datetime:
    """Sites last seen before this are down."""
    return timezone.now() - timedelta(seconds=settings.NETLAB_SITE_TIMEOUT)


def is_up(site: Site) -> bool:
    return site.last_seen >= deadline()


def register(name: str, underlay: str, *, max_labs: int = 0, max_namespaces: int = 0) -> Site:
    """Create or update site ``name`` as its worker starts (its draining flag is kept)."""
    site, _ = Site.objects.update_or_create(
        name=check_name(name),
        defaults={
            "underlay": check_underlay(underlay),
            "max_labs": max_labs,
            "max_namespaces": max_namespaces,
            "last_seen": timezone.now(),
        },
    )
    refresh(site)
    return site


def refresh(site: Site) -> None:
    """Say ``site`` is alive, with its active labs and their namespaces counted now."""
    active = Deployment.objects.filter(site=site, state__in=Deployment.ACTIVE_STATES)
    site.labs = active.count()
    site.namespaces = sum(len(names) for names in active.values_list("namespaces", flat=True))
    site.last_seen = timezone.now()
    Site.objects.filter(pk=site.pk).update(
        labs=site.labs, namespaces=site.namespaces, last_seen=site.last_seen
    )


def place(chosen: str | None = None) -> Site | None:
    """The site a new lab goes to: ``chosen`` (by name), else the live one with the fewest
    active labs that is neither draining nor full; None when no site is registered.

    Raises :class:`DeploymentRefused` when sites exist but none can take the lab.
    """
    sites = Site.objects.all()
    if chosen is not None:
        sites = sites.filter(name=chosen)
        if not sites.exists():
            raise DeploymentRefused(f"there is no site {chosen!r}")
    elif not sites.exists():
        return None
    # Counted from the rows (not the sites' last reports), so a burst of requests spreads.
    active = dict(
        Deployment.objects.filter(site__in=sites, state__in=Deployment.ACTIVE_STATES)
        .values_list("site")
        .annotate(count=Count("id"))
        .values_list("site", "count")
    )
    reasons = []
    for site in sorted(sites, key=lambda site: (active.get(site.pk, 0), site.name)):
        if site.draining:
            reasons.append(f"{site.name} is draining")
        elif not is_up(site):
            reasons.append(f"{site.name} is down")
        elif site.max_labs and active.get(site.pk, 0) >= site.max_labs:
            reasons.append(f"{site.name} runs its {site.max_labs} labs")
        elif site.max_namespaces and site.namespaces >= site.max_namespaces:
            reasons.append(f"{site.name} has its {site.max_namespaces} namespaces")
        else:
            return site
    raise DeploymentRefused(f"no site can take a lab now ({'; '.join(reasons)}); try again later")


def here() -> Site | None:
    """This machine's site, if its worker registered it under the default name (the command
    line runs labs here)."""
    return Site.objects.filter(name=default_name()).first()


def mark_lost(on_state: StateCallback | None = None) -> list[Deployment]:
    """Mark ``unknown`` the running labs of every site that is down; return them."""
    lost = list(Deployment.objects.filter(state=State.RUNNING, site__last_seen__lt=deadline()))
    marked = []
    for deployment in lost:
        if Deployment.objects.filter(pk=deployment.pk, state=State.RUNNING).update(
            state=State.UNKNOWN, updated=timezone.now()
        ):
            deployment.refresh_from_db()
            logger.warning("lab %s is unknown: site %s is down", deployment.tag, deployment.site)
            marked.append(deployment)
            if on_state is not None:
                on_state(deployment)
    return marked


def recover_unknown(
    site: Site, *, on_state: StateCallback | None = None, engine: Engine | None = None
) -> list[Deployment]:
    """Compare each ``unknown`` lab of ``site`` with its design (the engine's check): back
    to ``running`` when the kernel matches it, else ``failed`` with the differences."""
    recovered = []
    for deployment in Deployment.objects.filter(site=site, state=State.UNKNOWN):
        try:
            record = DeploymentRecord.from_dict(deployment.record)
            drift = (engine or load_engine()).check(document_of(deployment), record)
            found = [str(item.as_dict().get("message", "")) for item in drift]
        except Exception as failure:  # the check itself failed: the lab cannot be trusted
            found = [f"the check failed: {failure}"]
        if not found:
            _set_state(deployment, State.RUNNING, on_state)
        else:
            error = (
                f"site {site.name} was down and the lab no longer matches its design "
                f"({'; '.join(found[:3])}{'; ...' if len(found) > 3 else ''}); destroy it"
            )
            _set_state(deployment, State.FAILED, on_state, error=error)
        logger.warning("lab %s of site %s is %s again", deployment.tag, site, deployment.state)
        recovered.append(deployment)
    return recovered


def lab_site(design_id: int, user_id: int) -> str | None:
    """The site name of the user's latest lab of the design (None: not placed, or no lab)."""
    return (
        Deployment.objects.filter(design_id=design_id, owner_id=user_id)
        .order_by("-created")
        .values_list("site__name", flat=True)
        .first()
    )
