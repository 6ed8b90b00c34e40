"""The co-op's own portal pages (membership, stewards' desks, organizations, tokens, notifications)."""

from django.urls import path

from . import views

app_name = "coop"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("membership/", views.membership_detail, name="membership"),
    path("membership/activate/", views.membership_activate, name="membership_activate"),
    path("membership/leave/", views.membership_leave, name="membership_leave"),
    path("membership/profile/", views.membership_profile, name="membership_profile"),
    path("stewards/members/", views.steward_members, name="steward_members"),
    path("stewards/members/<int:pk>/", views.steward_member_detail, name="steward_member"),
    path("stewards/members/<int:pk>/<slug:action>/", views.steward_member_action, name="steward_member_action"),
    path("stewards/applications/", views.steward_applications, name="steward_applications"),
    path("organizations/", views.organization_list, name="organizations"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization"),
    path("tokens/", views.personal_tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("notifications/", views.notifications, name="notifications"),
]
