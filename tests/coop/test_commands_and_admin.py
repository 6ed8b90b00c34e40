import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command

from coop.models import ApiToken, ClientOrganization, Membership, User


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_logins(capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    first = capsys.readouterr().out
    from marketplace.models import Project, Task

    def counts():
        models = (User, Membership, ClientOrganization, ApiToken, Project, Task)
        return tuple(model.objects.count() for model in models)

    first_counts = counts()
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert counts() == first_counts
    assert set(Project.objects.values_list("task_type", "status")) == {
        (task_type, "published") for task_type in ("ocr", "classification", "pairwise", "ranking", "rubric", "multilabel", "rewrite")
    }
    assert "Read the CAPTCHA codes" in second
    assert "steward@demo.coop.localhost" in first and "amina@demo.coop.localhost" in first
    token_line = [line for line in second.splitlines() if "client API token" in line][0]
    assert token_line == [line for line in first.splitlines() if "client API token" in line][0]
    steward = User.objects.get(email="steward@demo.coop.localhost")
    assert steward.is_steward and steward.membership.member_number is not None
    assert User.objects.get(email="newcomer@demo.coop.localhost").role == "applicant"


@pytest.mark.django_db
def test_demo_totp_only_for_demo_accounts(capsys, settings, tmp_path):
    from django.core.management.base import CommandError

    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    capsys.readouterr()
    call_command("demo_totp", "steward@demo.coop.localhost")
    assert capsys.readouterr().out.strip().isdigit()
    with pytest.raises(CommandError):
        call_command("demo_totp", "someone@example.org")


@pytest.mark.django_db
def test_every_model_is_in_the_admin_and_its_pages_load(client, steward, organization, member):
    project_models = [m for m in apps.get_models() if m._meta.app_label in {"coop", "marketplace", "governance", "mlops"}]
    missing = [m.__name__ for m in project_models if m not in admin.site._registry]
    assert missing == []
    client.force_login(steward)
    for model in project_models:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(url)
        assert response.status_code == 200, url
        response = client.get(url, {"q": "a"})
        assert response.status_code == 200, url
    assert client.get(f"/admin/coop/membership/{member.membership.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_members_cannot_open_the_admin(client, member):
    client.force_login(member)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    client.logout()
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


@pytest.mark.django_db
def test_admin_action_admits_through_the_service(client, steward):
    from tests import factories

    applicant = factories.make_applicant()
    client.force_login(steward)
    client.post("/admin/coop/membership/", {"action": "admit_applicants", "_selected_action": [applicant.membership.pk]})
    membership = Membership.objects.get(pk=applicant.membership.pk)
    assert membership.status == "admitted"
    assert membership.events.first().actor == steward
