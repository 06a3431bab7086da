"""Django admin for designs, revisions and API tokens.

Revisions are history: the admin shows them but cannot change them. Designs are changed
through the editor (every save is a revision), so their fields are read-only here too.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from editor import services
from editor.models import ApiToken, Design, Revision


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
class DesignAdmin(admin.ModelAdmin):
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

    def delete_model(self, request: HttpRequest, obj: Design) -> None:
        services.delete_design(obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for design in queryset:
            services.delete_design(design, actor=request.user)


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
