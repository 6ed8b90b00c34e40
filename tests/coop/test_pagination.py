"""List endpoints page instead of cutting off at a fixed number of rows."""

import pytest
from rest_framework.test import APIClient

from coop.services.notifications import notification_send
from marketplace.services import projects

pytestmark = pytest.mark.django_db


def _pages(api, url):
    rows, seen_urls = [], 0
    while url:
        body = api.get(url).json()
        rows += body["results"]
        url, seen_urls = body["next"], seen_urls + 1
    return rows, seen_urls


def test_a_clients_project_list_pages_through_every_project(org_api, organization):
    for i in range(7):
        projects.project_create(
            organization=organization, task_type="ocr", title=f"p{i}", instructions="Type it.", pay_per_task="0.10", estimated_seconds=12
        )
    first = org_api.get("/api/v1/projects/", {"limit": 3}).json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    rows, pages = _pages(org_api, "/api/v1/projects/?limit=3")
    assert pages == 3 and sorted(r["title"] for r in rows) == [f"p{i}" for i in range(7)]
    # Nonsense paging falls back to the defaults, never a 500; the page size is capped.
    assert org_api.get("/api/v1/projects/", {"limit": "lots", "offset": "-4"}).status_code == 200
    assert len(org_api.get("/api/v1/projects/", {"limit": 10_000}).json()["results"]) == 7


def test_notifications_page_and_keep_their_order(member):
    for i in range(4):
        notification_send(user=member, kind="t", title=f"n{i}")
    api = APIClient()
    api.force_authenticate(member)
    body = api.get("/api/v1/notifications/", {"limit": 2}).json()
    assert body["count"] >= 4 and [n["title"] for n in body["results"]] == ["n3", "n2"] and body["next"]
