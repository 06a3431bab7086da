"""ASGI entry point: HTTP through Django (static files included), websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")
django_application = get_asgi_application()

# Imported after Django is set up, as Channels, staticfiles and the consumers need the
# settings and the app registry.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from editor.routing import TokenAuthMiddleware, websocket_urlpatterns  # noqa: E402

# Static files are served by the application itself, so the one-command layout needs no
# other server; they are few and small. The Origin of websockets is checked in the
# consumer, since scripts with a bearer token may omit it and browsers may not.
application = ProtocolTypeRouter(
    {
        "http": ASGIStaticFilesHandler(django_application),
        "websocket": TokenAuthMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
