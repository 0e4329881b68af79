"""The software status document (Virtool 2019's `/api/software`, without its self-update)."""

from __future__ import annotations

from rest_framework import serializers


class SoftwareReleaseSerializer(serializers.Serializer):
    """A release of this software on GitHub."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    tag_name = serializers.CharField(allow_null=True)
    body = serializers.CharField(allow_blank=True, help_text="The release notes (Markdown).")
    html_url = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    prerelease = serializers.BooleanField(allow_null=True)


class SoftwareStatusSerializer(serializers.Serializer):
    """Whether a newer version of this software exists: administrators are told; it never updates itself."""

    id = serializers.CharField()
    installed = serializers.CharField(help_text="The running version.")
    slug = serializers.CharField(allow_blank=True, help_text="The GitHub repository checked (VIRTOOL_SOFTWARE_SLUG).")
    enabled = serializers.BooleanField(help_text="False when VIRTOOL_SOFTWARE_SLUG is empty: nothing is checked.")
    release = SoftwareReleaseSerializer(allow_null=True, help_text="The newest stable release; null until known.")
    newer = serializers.BooleanField(help_text="Whether the release is newer than the running version.")
    body = serializers.CharField(allow_blank=True, help_text="The release's notes.")
    errors = serializers.ListField(  # type: ignore[assignment]  # a field, not Serializer.errors (DRF's metaclass)
        child=serializers.CharField(), help_text="Why the last check failed; empty after a good one."
    )
    retrieved_at = serializers.DateTimeField(allow_null=True, help_text="When GitHub last answered.")
