"""Instance-settings choices and the websocket close codes."""

from __future__ import annotations

from django.db import models


class SampleGroupSetting(models.TextChoices):
    """How a new sample's owner group is chosen (`sample_group`)."""

    NONE = "none", "No group"
    FORCE_CHOICE = "force_choice", "User must choose a group"
    USERS_PRIMARY_GROUP = "users_primary_group", "The user's primary group"


DEFAULT_SOURCE_TYPES = ["isolate", "strain"]

# Virtool closes unauthenticated sockets with 4000; its client reloads the page on it.
WS_CLOSE_UNAUTHENTICATED = 4000
