"""Uploads API documents (Virtool's shape)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictSerializer, UserBriefSerializer
from files.constants import UploadType
from files.models import Upload


class UploadSerializer(serializers.Serializer):
    """An upload."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    name_on_disk = serializers.CharField()
    type = serializers.ChoiceField(choices=UploadType.values)
    user = serializers.SerializerMethodField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    ready = serializers.BooleanField()
    reserved = serializers.BooleanField()
    removed = serializers.BooleanField()
    removed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    uploaded_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, upload: Upload) -> dict | None:
        return None if upload.user is None else {"id": upload.user.pk, "handle": upload.user.handle}


class UploadQuerySerializer(StrictSerializer):
    """`?name=&type=` of POST /uploads."""

    name = serializers.CharField(min_length=1, max_length=200)
    type = serializers.ChoiceField(choices=UploadType.values)
