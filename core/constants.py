"""Instance-settings choices, the websocket close codes and the server's websocket extension."""

from __future__ import annotations

from django.db import models


class SampleGroupSetting(models.TextChoices):
    """How a new sample's owner group is chosen (`sample_group`)."""

    NONE = "none", "No group"
    FORCE_CHOICE = "force_choice", "User must choose a group"
    USERS_PRIMARY_GROUP = "users_primary_group", "The user's primary group"


DEFAULT_SOURCE_TYPES = ["isolate", "strain"]

# Integer columns (ids, and the offsets of paged lists) are 64-bit: a larger number from a client is refused with
# a 400 naming it, instead of failing in the database.
DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1

# Every free-text field a client sends is bounded: a field with no limit of its own gets this one (input serializers,
# `core.api.serializers.StrictSerializer`), and the schema states it.
TEXT_MAX_LENGTH = 1000

# Virtool closes unauthenticated sockets with 4000; its client reloads the page on it.
WS_CLOSE_UNAUTHENTICATED = 4000
# The channel layer (Redis) cannot be reached: the socket is closed with this code and a reason (an application may
# only send 1000 or 3000-4999; 4503 as HTTP's 503). Virtool's client reloads on 4000 only; on others it reconnects.
WS_CLOSE_TRY_AGAIN = 4503

# The ASGI scope extension by which Virtool's server (virtool_site.server) writes an event's text to a socket as a
# frame built once for all the sockets it goes to: a callable taking the text, answering False when that socket
# cannot take it so (core.consumers then sends it the usual way).
WS_PREPARED_TEXT_EXTENSION = "virtool.websocket.prepared_text"
