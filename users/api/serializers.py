"""Users API serializers: output documents in Virtool's shapes, strict input serializers."""

from __future__ import annotations

from typing import Any, TypedDict, overload

from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import IdField, StrictSerializer
from users.constants import PERMISSION_NAMES, QUICK_ANALYZE_WORKFLOWS, AdministratorRole
from users.models import APIKey, User
from users.selectors import group_permissions, key_effective_permissions, user_permissions


class GroupMinimal(TypedDict):
    """`{id, name}` of a group."""

    id: int
    name: str


@overload
def group_minimal(group: Group) -> GroupMinimal: ...
@overload
def group_minimal(group: Group | None) -> GroupMinimal | None: ...
def group_minimal(group: Group | None) -> GroupMinimal | None:
    """`{id, name}` of a group, or None."""
    return None if group is None else {"id": group.pk, "name": group.name}


# Virtool's `{permission: bool}` map, every permission present.
PermissionMapSerializer = type(
    "PermissionMapSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Virtool's permissions, each true or false.",
        **{n: serializers.BooleanField() for n in PERMISSION_NAMES},
    },
)


class UserMinimalSerializer(serializers.Serializer):
    """`{id, handle}`."""

    id = serializers.IntegerField(source="pk")
    handle = serializers.CharField()


class GroupMinimalSerializer(serializers.Serializer):
    """`{id, name}` (list view)."""

    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class UserSerializer(serializers.Serializer):
    """A user as Virtool shows it to administrators."""

    id = serializers.IntegerField(source="pk")
    handle = serializers.CharField()
    active = serializers.BooleanField(source="is_active")
    administrator_role = serializers.ChoiceField(choices=AdministratorRole.choices, allow_null=True)
    force_reset = serializers.BooleanField()
    groups = serializers.SerializerMethodField()
    primary_group = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    last_password_change = serializers.DateTimeField()

    @extend_schema_field(GroupMinimalSerializer(many=True))
    def get_groups(self, user: User) -> list[GroupMinimal]:
        return [group_minimal(group) for group in user.groups.all()]

    @extend_schema_field(GroupMinimalSerializer(allow_null=True))
    def get_primary_group(self, user: User) -> GroupMinimal | None:
        return group_minimal(user.primary_group)

    @extend_schema_field(PermissionMapSerializer)
    def get_permissions(self, user: User) -> dict[str, bool]:
        return user_permissions(user=user)


class AccountSettingsSerializer(serializers.Serializer):
    """One's own display settings (Virtool's keys)."""

    show_ids = serializers.BooleanField()
    show_versions = serializers.BooleanField()
    skip_quick_analyze_dialog = serializers.BooleanField()
    quick_analyze_workflow = serializers.ChoiceField(choices=QUICK_ANALYZE_WORKFLOWS)


class AccountSerializer(UserSerializer):
    """One's own account: the user document plus email and settings."""

    email = serializers.CharField()
    # Stored JSON, sent as it is.
    settings = described(AccountSettingsSerializer)


class GroupSerializer(GroupMinimalSerializer):
    """A group with its permissions and members."""

    permissions = serializers.SerializerMethodField()
    users = serializers.SerializerMethodField()

    @extend_schema_field(PermissionMapSerializer)
    def get_permissions(self, group: Group) -> dict[str, bool]:
        return group_permissions(group=group)

    @extend_schema_field(UserMinimalSerializer(many=True))
    def get_users(self, group: Group) -> list[dict[str, Any]]:
        # drf-stubs type the data of a `many=True` serializer (a ReturnList) as one item's ReturnDict.
        return UserMinimalSerializer(group.user_set.all(), many=True).data  # type: ignore[return-value]


class APIKeySerializer(serializers.Serializer):
    """An API key without its secret."""

    id = serializers.CharField(source="key_id")
    name = serializers.CharField()
    permissions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(PermissionMapSerializer)
    def get_permissions(self, key: APIKey) -> dict[str, bool]:
        return key_effective_permissions(key=key)


class APIKeyCreatedSerializer(APIKeySerializer):
    """A new API key with its secret, shown only in the answer that creates it."""

    key = serializers.CharField(source="raw_key")


class LoginResultSerializer(serializers.Serializer):
    """POST /account/login: `reset` true (with `reset_code`) when the password must be changed first."""

    reset = serializers.BooleanField()
    reset_code = serializers.CharField(required=False)


class RoleSerializer(serializers.Serializer):
    """An administrator role."""

    id = serializers.ChoiceField(choices=AdministratorRole.choices)
    name = serializers.CharField()
    description = serializers.CharField()


# --- Input ----------------------------------------------------------------------------------------------------


class PermissionsField(serializers.DictField):
    """A partial `{permission: bool}` map; unknown permission names are refused by name."""

    child = serializers.BooleanField()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        unknown = sorted(set(value) - set(PERMISSION_NAMES))
        if unknown:
            raise serializers.ValidationError(f"Unknown permissions: {', '.join(unknown)}", code="value_error")
        return value


class HandleField(serializers.CharField):
    """A user handle."""

    def __init__(self, **kwargs):
        super().__init__(min_length=1, max_length=64, trim_whitespace=True, **kwargs)


class FirstUserSerializer(StrictSerializer):
    """PUT /users/first."""

    handle = HandleField()
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    force_reset = serializers.BooleanField(required=False, default=False)


class UserCreateSerializer(StrictSerializer):
    """POST /users."""

    handle = HandleField()
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    force_reset = serializers.BooleanField(required=False, default=False)


class GroupReferenceField(IdField):
    """A group id that must exist."""

    def run_validation(self, data=serializers.empty):
        # The id is checked (type, 64-bit bounds) before it is looked up.
        group_id = super().run_validation(data)
        if group_id is None:
            return None
        group = Group.objects.filter(pk=group_id).first()
        if group is None:
            raise serializers.ValidationError("Group does not exist", code="value_error")
        return group


class UserUpdateSerializer(StrictSerializer):
    """PATCH /users/{id}."""

    active = serializers.BooleanField(required=False)
    force_reset = serializers.BooleanField(required=False)
    groups = serializers.ListField(child=GroupReferenceField(), required=False)
    password = serializers.CharField(trim_whitespace=False, max_length=128, required=False)
    primary_group = GroupReferenceField(required=False, allow_null=True)


class RoleUpdateSerializer(StrictSerializer):
    """PUT /admin/users/{id}/role."""

    role = serializers.ChoiceField(choices=AdministratorRole.choices, allow_null=True)


class LoginSerializer(StrictSerializer):
    """POST /account/login."""

    handle = serializers.CharField(max_length=64)
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    remember = serializers.BooleanField(required=False, default=False)


class ResetSerializer(StrictSerializer):
    """POST /account/reset."""

    password = serializers.CharField(trim_whitespace=False, max_length=128)
    reset_code = serializers.CharField(max_length=64)


class AccountUpdateSerializer(StrictSerializer):
    """PATCH /account."""

    email = serializers.EmailField(required=False, allow_blank=True)
    old_password = serializers.CharField(trim_whitespace=False, max_length=128, required=False)
    password = serializers.CharField(trim_whitespace=False, max_length=128, required=False)

    def validate(self, attrs):
        if "password" in attrs and "old_password" not in attrs:
            raise serializers.ValidationError("The old password is needed to set a new one", code="value_error")
        return attrs


class AccountSettingsUpdateSerializer(StrictSerializer):
    """PATCH /account/settings."""

    show_ids = serializers.BooleanField(required=False)
    show_versions = serializers.BooleanField(required=False)
    skip_quick_analyze_dialog = serializers.BooleanField(required=False)
    quick_analyze_workflow = serializers.ChoiceField(choices=QUICK_ANALYZE_WORKFLOWS, required=False)


class KeyCreateSerializer(StrictSerializer):
    """POST /account/keys."""

    name = serializers.CharField(min_length=1, max_length=100)
    permissions = PermissionsField(required=False, default=dict)


class KeyUpdateSerializer(StrictSerializer):
    """PATCH /account/keys/{id}."""

    permissions = PermissionsField()


class GroupCreateSerializer(StrictSerializer):
    """POST /groups."""

    name = serializers.CharField(min_length=1, max_length=150)


class GroupUpdateSerializer(StrictSerializer):
    """PATCH /groups/{id}."""

    name = serializers.CharField(min_length=1, max_length=150, required=False)
    permissions = PermissionsField(required=False)
