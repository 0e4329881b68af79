"""Users API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path

from users.api import views

urlpatterns = [
    path("account", views.AccountView.as_view(), name="account"),
    path("account/settings", views.AccountSettingsView.as_view(), name="account-settings"),
    path("account/keys", views.KeysView.as_view(), name="account-keys"),
    path("account/keys/<str:key_id>", views.KeyView.as_view(), name="account-key"),
    path("account/login", views.LoginView.as_view(), name="account-login"),
    path("account/logout", views.LogoutView.as_view(), name="account-logout"),
    path("account/reset", views.ResetView.as_view(), name="account-reset"),
    path("users", views.UsersView.as_view(), name="users"),
    path("users/first", views.FirstUserView.as_view(), name="users-first"),
    path("users/<int:pk>", views.UserView.as_view(), name="user"),
    path("admin/roles", views.RolesView.as_view(), name="admin-roles"),
    path("admin/users", views.AdminUsersView.as_view(), name="admin-users"),
    path("admin/users/<int:pk>", views.UserView.as_view(), name="admin-user"),
    path("admin/users/<int:pk>/role", views.UserRoleView.as_view(), name="admin-user-role"),
    path("groups", views.GroupsView.as_view(), name="groups"),
    path("groups/<int:pk>", views.GroupView.as_view(), name="group"),
]
