"""/api/v1/ routes of the governance app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
