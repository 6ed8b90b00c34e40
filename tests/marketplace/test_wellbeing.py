"""Sensitive content is opt-in per member and capped per day, enforced when claiming."""

import pytest
from rest_framework.test import APIClient

from coop.errors import ApplicationError
from marketplace.models import Assignment
from marketplace.services import claiming, wellbeing
from tests import factories


@pytest.mark.django_db
def test_sensitive_projects_need_opt_in_to_every_category(organization, member):
    project = factories.make_project(organization, tasks=3, sensitive_categories=["violence", "hate_speech"])
    api = APIClient()
    api.force_authenticate(member)
    refused = api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
    assert refused.status_code == 204 and refused["X-Coop-Reason"] == "sensitive_opt_in_required"
    wellbeing.preference_set(worker=member, sensitive_opt_in=["violence"])
    assert claiming.work_next(worker=member, project=project).reason == "sensitive_opt_in_required"
    # Without a project, the member is never routed to it either.
    assert claiming.work_next(worker=member).reason == "no_open_projects"
    wellbeing.preference_set(worker=member, sensitive_opt_in=["violence", "hate_speech"])
    assert claiming.work_next(worker=member, project=project).assignment is not None


@pytest.mark.django_db
def test_daily_cap_on_sensitive_work(organization, member, settings):
    settings.SENSITIVE_DAILY_CAP_MINUTES = 30
    sensitive = factories.make_project(organization, tasks=5, sensitive_categories=["violence"])
    ordinary = factories.make_project(organization, tasks=5)
    wellbeing.preference_set(worker=member, sensitive_opt_in=["violence"])
    lease = claiming.work_next(worker=member, project=sensitive).assignment
    Assignment.objects.filter(pk=lease.pk).update(active_seconds=30 * 60, state="submitted")
    assert claiming.work_next(worker=member, project=sensitive).reason == "sensitive_daily_cap_reached"
    assert claiming.work_next(worker=member, project=ordinary).assignment is not None  # other work is unaffected


@pytest.mark.django_db
def test_preferences_validation_and_page(client, member, applicant):
    with pytest.raises(ApplicationError):
        wellbeing.preference_set(worker=member, sensitive_opt_in=["gore_fest"])
    with pytest.raises(ApplicationError):
        wellbeing.preference_set(worker=applicant, sensitive_opt_in=["violence"])
    client.force_login(member)
    page = client.get("/work/preferences/").content.decode()
    assert "Daily limit set by the co-op: 120 minutes" in page
    client.post("/work/preferences/", {"sensitive_opt_in": ["medical", "personal_data"]})
    assert wellbeing.opted_in(member) == {"medical", "personal_data"}
