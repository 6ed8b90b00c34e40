"""Members rate clients they worked for and flag projects collectively; enough flags pause a project."""

import pytest
from django.db import IntegrityError, transaction

from coop.errors import ApplicationError, Conflict, Forbidden
from marketplace.models import ClientRating, Project
from marketplace.services import claiming, voice
from tests import factories


def _worked(project):
    worker = factories.make_member()
    claiming.work_next(worker=worker, project=project)
    return worker


@pytest.mark.django_db
class TestRatings:
    def test_only_members_who_worked_for_a_client_rate_it_and_the_feed_shows_averages(self, client, organization):
        project = factories.make_project(organization, tasks=5)
        stranger = factories.make_member()
        scores = {"pay": 4, "review_fairness": 5, "clarity": 3, "communication": 4}
        with pytest.raises(Forbidden):
            voice.client_rate(member=stranger, organization=organization, **scores)
        first, second = _worked(project), _worked(project)
        voice.client_rate(member=first, organization=organization, **scores)
        voice.client_rate(member=second, organization=organization, pay=2, review_fairness=5, clarity=4, communication=4)
        voice.client_rate(member=second, organization=organization, pay=3, review_fairness=5, clarity=4, communication=4)
        assert ClientRating.objects.count() == 2  # rating again updates
        client.force_login(stranger)
        page = client.get("/work/").content.decode()
        assert "pay 3.5 · fair review 5.0 · clarity 3.5 · communication 4.0 (of 5, 2 ratings)" in page

    def test_bad_scores_are_refused_by_the_service_and_the_database(self, organization):
        project = factories.make_project(organization, tasks=2)
        worker = _worked(project)
        with pytest.raises(ApplicationError) as excinfo:
            voice.client_rate(member=worker, organization=organization, pay=6, review_fairness=0, clarity="3", communication=4)
        assert set(excinfo.value.fields) == {"pay", "review_fairness", "clarity"}
        assert not ClientRating.objects.exists()
        with pytest.raises(IntegrityError), transaction.atomic():
            ClientRating.objects.create(organization=organization, member=worker, pay=9, review_fairness=1, clarity=1, communication=1)

    def test_rating_page(self, client, organization):
        project = factories.make_project(organization, tasks=2)
        worker = _worked(project)
        client.force_login(worker)
        assert "Rate this client" in client.get("/work/").content.decode()
        client.post(f"/work/clients/{organization.pk}/rate/", {"pay": 5, "review_fairness": 4, "clarity": 4, "communication": 3})
        assert ClientRating.objects.get(member=worker).pay == 5


@pytest.mark.django_db
class TestFlags:
    def test_enough_flags_pause_the_project_and_notify(self, organization, client_user, steward, settings):
        settings.PROJECT_FLAG_THRESHOLD = 3
        project = factories.make_project(organization, tasks=5)
        workers = [_worked(project) for _ in range(3)]
        voice.project_flag(member=workers[0], project=project, reason="pay_too_low", comment="Takes 40 s, not 12.")
        voice.project_flag(member=workers[1], project=project, reason="pay_too_low")
        assert Project.objects.get(pk=project.pk).status == "published"
        with pytest.raises(Conflict):
            voice.project_flag(member=workers[1], project=project, reason="unclear")
        voice.project_flag(member=workers[2], project=project, reason="unclear")
        paused = Project.objects.get(pk=project.pk)
        assert paused.status == "paused" and "pay too low for the real time it takes (2)" in paused.status_reason
        assert client_user.notifications.filter(kind="project.flagged").exists()
        assert steward.notifications.filter(kind="project.flagged").exists()

    def test_flags_need_work_on_the_project_and_a_reason(self, organization, member):
        project = factories.make_project(organization, tasks=2)
        with pytest.raises(Forbidden):
            voice.project_flag(member=member, project=project, reason="unclear")
        worker = _worked(project)
        with pytest.raises(ApplicationError):
            voice.project_flag(member=worker, project=project, reason="boring")

    def test_flag_form_on_the_project_page(self, client, organization):
        project = factories.make_project(organization, tasks=2)
        worker = _worked(project)
        client.force_login(worker)
        assert "Flag this project" in client.get(f"/work/projects/{project.pk}/").content.decode()
        client.post(f"/work/projects/{project.pk}/flag/", {"reason": "harmful_content", "comment": "Graphic images."})
        assert project.flags.get().reason == "harmful_content"
