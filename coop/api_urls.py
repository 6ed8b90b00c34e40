"""/api/v1/ routes of the co-op domain."""

from django.urls import path

from . import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="me"),
    path("organization/", apis.OrganizationApi.as_view(), name="organization"),
    path("tokens/", apis.PersonalTokenListApi.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke/", apis.PersonalTokenRevokeApi.as_view(), name="token-revoke"),
    path("notifications/", apis.NotificationListApi.as_view(), name="notifications"),
    path("notifications/read/", apis.NotificationReadApi.as_view(), name="notifications-read"),
]
