"""Django admin for designs, revisions, API tokens, users, and sites.

Revisions are history: the admin shows them but cannot change them. Designs are changed
through the editor (every save is a revision), so their fields are read-only here too.

Deleting a design or a user goes through ``services``, under the editor's rule: refused,
naming the labs, while any of their labs is active (the lab's row is what lets the worker
destroy it); ended deployments go with them. The admin's confirmation page lists the
active labs as what blocks the deletion.

Sites are registered by their workers: staff see their health and drain or undrain them
(a draining site takes no new labs; its labs stay until destroyed).

Every command loads this module (``django.setup`` runs the admin's autodiscovery), so the
services and the deployments, which load the document model, are imported where an admin
action needs them: ``netlab list`` should not pay for them.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from editor import permissions
from editor.models import ApiToken, Deployment, Design, Revision, Site


class LabAwareDeletion(admin.ModelAdmin):
    """Deletion that active labs block, and that removes ended deployments with the object."""

    def labs_of(self, objects: Iterable[Any]) -> QuerySet[Deployment]:
        raise NotImplementedError

    def delete_with_labs(self, obj: Any, *, actor: User) -> None:
        raise NotImplementedError

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Django lists every PROTECT row as blocking, ended deployments too; those are
        # removed with the object by services: only active labs block.
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        from editor import deployments

        active = self.labs_of(objs).filter(state__in=Deployment.ACTIVE_STATES)
        protected = [deployments.describe(lab) for lab in active.select_related("design", "owner")]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        from editor import deployments

        try:
            self.delete_with_labs(obj, actor=permissions.signed_in_user(request))
        except deployments.LabsActive as error:  # a lab requested since the confirmation
            messages.error(request, str(error))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ("number", "author", "created", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Design)
class DesignAdmin(LabAwareDeletion):
    list_display = ("name", "title", "owner", "node_count", "link_count", "updated")
    list_filter = ("owner",)
    search_fields = ("name", "title", "owner__username")
    readonly_fields = (
        "owner",
        "name",
        "title",
        "current",
        "node_count",
        "link_count",
        "created",
        "updated",
    )
    inlines = [RevisionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def labs_of(self, objects: Iterable[Any]) -> QuerySet[Deployment]:
        return Deployment.objects.filter(design__in=list(objects))

    def delete_with_labs(self, obj: Design, *, actor: User) -> None:
        from editor import services

        services.delete_design(obj, actor=actor)


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ("design", "number", "author", "created", "message")
    list_filter = ("design__owner",)
    readonly_fields = ("design", "number", "document", "author", "message", "created")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A revision goes only with its design (or the design's owner), never on its own:
        # refuse on the revision pages themselves, allow the cascade from other pages.
        match = request.resolver_match
        return match is not None and not (match.url_name or "").startswith("editor_revision_")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "name", "created", "last_used")
    readonly_fields = ("user", "prefix", "key_hash", "created", "last_used")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = (
        "name", "underlay", "last_seen", "up", "labs", "namespaces", "max_labs",
        "max_namespaces", "draining",
    )  # fmt: skip
    readonly_fields = ("name", "underlay", "last_seen", "labs", "namespaces")
    actions = ("drain", "undrain")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a worker registers its site

    @admin.display(boolean=True, description="up")
    def up(self, site: Site) -> bool:
        from editor.deployments import sites

        return sites.is_up(site)

    @admin.action(description="Drain: take no new labs")
    def drain(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        count = queryset.update(draining=True)
        messages.info(request, f"{count} site(s) draining: they take no new labs")

    @admin.action(description="Undrain: take new labs again")
    def undrain(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        count = queryset.update(draining=False)
        messages.info(request, f"{count} site(s) take new labs again")


if admin.site.is_registered(get_user_model()):
    admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class NetlabUserAdmin(LabAwareDeletion, UserAdmin):
    """Django's user admin, with the editor's rule for deleting a user who has labs."""

    def labs_of(self, objects: Iterable[Any]) -> QuerySet[Deployment]:
        users = list(objects)
        return Deployment.objects.filter(Q(owner__in=users) | Q(design__owner__in=users))

    def delete_with_labs(self, obj: Any, *, actor: User) -> None:
        from editor import services

        services.delete_user(obj, actor=actor)
