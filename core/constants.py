"""Instance-settings choices and the websocket close codes."""

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

# Virtool closes unauthenticated sockets with 4000; its client reloads the page on it.
WS_CLOSE_UNAUTHENTICATED = 4000
