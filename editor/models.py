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
    and look-ups need not read documents.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="designs"
    )
    name = models.SlugField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    current = models.OneToOneField(
        "Revision", on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    node_count = models.PositiveIntegerField(default=0)
    link_count = models.PositiveIntegerField(default=0)
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
        """The current document, as stored (valid when it was saved)."""
        return self.current.document if self.current else {}


class Revision(models.Model):
    """One saved state of a design's document. Never changed once written."""

    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["design", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["design", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.design} r{self.number}"


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
