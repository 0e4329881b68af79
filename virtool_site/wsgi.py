"""WSGI entry point (HTTP only; websockets need the ASGI app under daphne)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "virtool_site.settings")
application = get_wsgi_application()
