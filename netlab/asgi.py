"""ASGI entry point: HTTP through Django (static files included), websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")
django_application = get_asgi_application()

# Imported after Django is set up, as Channels and staticfiles need the settings.
from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

# Static files are served by the application itself, so the one-command layout needs no
# other server; they are few and small.
application = ProtocolTypeRouter({"http": ASGIStaticFilesHandler(django_application)})
