from django.apps import AppConfig


class EditorConfig(AppConfig):
    """The netlab editor: designs, revisions, tokens, their pages, API and command line."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "editor"
    verbose_name = "netlab editor"
