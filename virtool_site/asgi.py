"""ASGI entry point: HTTP goes to Django (requests without a body through its WSGI handler, see bridge.py),
websockets through the session auth stack to the event consumer."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "virtool_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.security import SameOriginWebsocketValidator  # noqa: E402
from virtool_site.bridge import WSGIBridge  # noqa: E402
from virtool_site.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIBridge(django_asgi_app),
        "websocket": SameOriginWebsocketValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
