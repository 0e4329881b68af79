"""Virtool's permissions, administrator roles and account-settings defaults."""

from __future__ import annotations

from django.db import models

# Virtool's eight global permissions, granted through groups (identical in 2019 and 36.8).
PERMISSIONS: dict[str, str] = {
    "cancel_job": "Can cancel jobs",
    "create_ref": "Can create references",
    "create_sample": "Can create samples",
    "modify_hmm": "Can modify HMMs",
    "modify_subtraction": "Can modify subtractions",
    "remove_file": "Can remove files",
    "remove_job": "Can remove jobs",
    "upload_file": "Can upload files",
}
PERMISSION_NAMES: tuple[str, ...] = tuple(PERMISSIONS)

RESERVED_HANDLES = frozenset({"virtool"})


class AdministratorRole(models.TextChoices):
    """Virtool's administrator roles; each includes every role below it."""

    FULL = "full", "Full"
    SETTINGS = "settings", "Settings"
    SPACES = "spaces", "Spaces"
    USERS = "users", "Users"
    BASE = "base", "Base"


ROLE_RANK = {
    AdministratorRole.BASE: 1,
    AdministratorRole.USERS: 2,
    AdministratorRole.SPACES: 3,
    AdministratorRole.SETTINGS: 4,
    AdministratorRole.FULL: 5,
}

ROLE_DESCRIPTIONS = {
    AdministratorRole.FULL: "Manage everything, including other administrators' roles.",
    AdministratorRole.SETTINGS: "Manage instance settings and the instance message.",
    AdministratorRole.SPACES: "Manage spaces and their members.",
    AdministratorRole.USERS: "Create, activate and edit users.",
    AdministratorRole.BASE: "Manage HMMs, groups and common references; view and cancel all jobs.",
}

ACCOUNT_SETTINGS_DEFAULTS = {
    "show_ids": True,
    "show_versions": True,
    "skip_quick_analyze_dialog": True,
    "quick_analyze_workflow": "pathoscope_bowtie",
}
QUICK_ANALYZE_WORKFLOWS = ("pathoscope_bowtie", "nuvs", "aodp", "iimi")
