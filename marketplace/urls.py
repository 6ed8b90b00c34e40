"""Portal routes of the marketplace app."""

from django.urls import path  # noqa: F401

app_name = "marketplace"
urlpatterns: list = []
