"""Software constants."""

from __future__ import annotations

# The release refresher's name: its lock in Redis (`core.refresh.run_once`).
RELEASE_REFRESHER = "software_release"
# The websocket interface of the status (Virtool 2019's `software`); only administrators receive it.
INTERFACE = "software"
