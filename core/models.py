"""Instance settings: one row with Virtool's keys and defaults."""

from __future__ import annotations

from django.db import models

from core.constants import DEFAULT_SOURCE_TYPES, SampleGroupSetting


def default_source_types() -> list[str]:
    """A fresh copy of Virtool's default source types."""
    return list(DEFAULT_SOURCE_TYPES)


class InstanceSettings(models.Model):
    """The instance's settings (Virtool's `settings` document) and its banner message."""

    default_source_types = models.JSONField(default=default_source_types)
    enable_api = models.BooleanField(default=False, help_text="Allow API-key (HTTP Basic) authentication.")
    enable_sentry = models.BooleanField(default=True)
    hmm_slug = models.CharField(max_length=200, default="virtool/virtool-hmm")
    minimum_password_length = models.PositiveIntegerField(default=8)
    sample_all_read = models.BooleanField(default=True)
    sample_all_write = models.BooleanField(default=False)
    sample_group = models.CharField(max_length=32, choices=SampleGroupSetting.choices, null=True, blank=True)
    sample_group_read = models.BooleanField(default=True)
    sample_group_write = models.BooleanField(default=False)
    sample_unique_names = models.BooleanField(default=True)
    message = models.TextField(blank=True, default="", help_text="Banner shown to every user when active.")
    message_color = models.CharField(max_length=16, blank=True, default="")
    message_active = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "instance settings"
        verbose_name_plural = "instance settings"

    def __str__(self) -> str:
        return "Instance settings"
