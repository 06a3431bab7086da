"""URL configuration of the netlab site: pages, admin, JSON API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from editor.api import api

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # Pages that link no icon (the admin, the API docs) make browsers ask for this one.
    path("favicon.ico", RedirectView.as_view(url=static("netlab/favicon.svg"), permanent=True)),
    path("", include("editor.urls")),
]
