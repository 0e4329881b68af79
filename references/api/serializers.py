"""References API: input serializers and the output documents (Virtool's shapes)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import StrictSerializer
from references.constants import RIGHTS, DataType
from references.models import Reference, ReferenceMember


def user_brief(user) -> dict | None:
    """`{id, handle}` of a user, or None."""
    return {"id": user.pk, "handle": user.handle} if user is not None else None


def member_document(member: ReferenceMember) -> dict[str, Any]:
    """A user or group member with its rights."""
    if member.user_id:
        base = {"id": member.user_id, "handle": member.user.handle}
    else:
        base = {"id": member.group_id, "name": member.group.name}
    return {**base, **{right: getattr(member, right) for right in RIGHTS}, "created_at": member.created_at}


def reference_document(reference: Reference, *, detail: bool = True) -> dict[str, Any]:
    """A reference as Virtool returns it, with computed `otu_count`, `unbuilt_change_count`, `latest_build`."""
    from indexes.models import Index
    from otus.models import OTU
    from otus.selectors import contributors, history_list

    members = list(reference.members.all())
    latest = Index.objects.filter(reference=reference, ready=True).select_related("user").order_by("-version").first()
    internal_control = None
    if reference.internal_control:
        name = OTU.objects.filter(pk=reference.internal_control).values_list("name", flat=True).first()
        internal_control = {"id": reference.internal_control, "name": name}
    document: dict[str, Any] = {
        "id": reference.pk,
        "name": reference.name,
        "description": reference.description,
        "data_type": reference.data_type,
        "organism": reference.organism,
        "created_at": reference.created_at,
        "user": user_brief(reference.user),
        "internal_control": internal_control,
        "restrict_source_types": reference.restrict_source_types,
        "source_types": reference.source_types,
        "targets": reference.targets,
        "cloned_from": reference.cloned_from,
        "imported_from": reference.imported_from,
        "remotes_from": None,
        "installed": None,
        "release": None,
        "ready": reference.ready,
        "task": {"id": reference.job_id, "complete": reference.ready} if reference.job_id else None,
        "job": {"id": reference.job_id, "state": reference.job.state, "progress": reference.job.progress}
        if reference.job_id
        else None,
        # Annotated by references.selectors.reference_queryset, which every caller reads references through.
        "otu_count": reference.otu_count,
        "unbuilt_change_count": reference.unbuilt_change_count,
        "latest_build": {
            "id": latest.pk,
            "version": latest.version,
            "created_at": latest.created_at,
            "user": user_brief(latest.user),
            "has_json": latest.has_json,
        }
        if latest
        else None,
        "users": [member_document(m) for m in members if m.user_id],
        "groups": [member_document(m) for m in members if m.group_id],
    }
    if detail:
        document["contributors"] = contributors(queryset=history_list(reference_id=reference.pk))
    return document


class TargetSerializer(StrictSerializer):
    """A barcode target."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    required = serializers.BooleanField(required=False, default=False)
    length = serializers.IntegerField(required=False, allow_null=True, default=None)


class ReferenceCreateSerializer(StrictSerializer):
    """POST /refs: an empty reference, or one of `import_from` (upload) or `clone_from` (reference id)."""

    name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    description = serializers.CharField(allow_blank=True, required=False, default="")
    data_type = serializers.ChoiceField(choices=DataType.values, required=False, default="genome")
    organism = serializers.CharField(allow_blank=True, required=False, default="")
    import_from = serializers.CharField(required=False)
    clone_from = serializers.CharField(required=False)
    release_id = serializers.IntegerField(required=False)
    remote_from = serializers.CharField(required=False)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("remote_from"):
            raise serializers.ValidationError(
                {"remote_from": ["Remote references (GitHub releases) are not available: import the file instead"]}
            )
        if attrs.get("import_from") and attrs.get("clone_from"):
            raise serializers.ValidationError("Give only one of import_from and clone_from")
        return attrs


class ReferenceUpdateSerializer(StrictSerializer):
    """PATCH /refs/{id}."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    organism = serializers.CharField(allow_blank=True, required=False)
    internal_control = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    restrict_source_types = serializers.BooleanField(required=False)
    source_types = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    targets = TargetSerializer(many=True, required=False)


class RightsSerializer(StrictSerializer):
    """Member rights."""

    build = serializers.BooleanField(required=False)
    modify = serializers.BooleanField(required=False)
    modify_otu = serializers.BooleanField(required=False)
    remove = serializers.BooleanField(required=False)


class UserMemberCreateSerializer(RightsSerializer):
    """POST /refs/{id}/users."""

    user_id = serializers.IntegerField()


class GroupMemberCreateSerializer(RightsSerializer):
    """POST /refs/{id}/groups."""

    group_id = serializers.IntegerField()
