"""What each site's kernel has, so the editor can warn before a deploy is refused.

Only a worker can probe a kernel (``netlab.kernel.features``, as root); it publishes what it
found on its site's row when it starts (:func:`publish`). The web process reads it back
(:func:`kernel_warnings`): a design needing what the site it would run on lacks gets a warning
at each such element, in the words of the worker's own refusal.
"""

from __future__ import annotations

import logging

from editor.deployments import sites
from editor.deployments.requests import DeploymentRefused
from editor.models import Site
from netlab.core import features, validation
from netlab.core.document import Document
from netlab.core.problems import Problem

logger = logging.getLogger("netlab.deployments")


def publish(site: Site) -> dict[str, bool]:
    """Probe this machine's kernel and store what it has on ``site``; return it (empty when
    the probe failed: then nothing is marked)."""
    from netlab.kernel import features as kernel_features  # the worker's side only

    try:
        found = kernel_features.supported()
    except OSError as failure:  # e.g. no privilege to make a namespace
        logger.warning("site %s: cannot probe the kernel: %s", site.name, failure)
        found = {}
    Site.objects.filter(pk=site.pk).update(capabilities=found)
    site.capabilities = found
    return found


def site_for(design_id: int | None, user_id: int | None) -> Site | None:
    """The site a lab of the design runs on (the user's latest), else where a new one would
    go; None when there is no such site."""
    if design_id is not None and user_id is not None:
        name = sites.lab_site(design_id, user_id)
        if name is not None:
            return Site.objects.filter(name=name).first()
    try:
        return sites.place()
    except DeploymentRefused:
        return None


def kernel_warnings(design: Document, site: Site | None) -> list[Problem]:
    """Warnings for what ``design`` needs and ``site``'s kernel lacks (unnamed elements);
    none when no site, or the site has published nothing."""
    if site is None or not site.capabilities:
        return []
    return features.warnings(design, site.capabilities, f"site {site.name}'s kernel")


def warnings_of(data: object, *, design_id: int | None, user_id: int | None) -> list[Problem]:
    """Every warning of the document ``data``: its own, then what the kernel of the site it
    would run on lacks (see :func:`site_for`); empty when ``data`` is not well-shaped."""
    return validation.warnings_of(
        data, also=lambda design: kernel_warnings(design, site_for(design_id, user_id))
    )
