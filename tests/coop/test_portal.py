import pytest
from django.urls import reverse

from coop.models import Membership
from tests import factories


@pytest.mark.django_db
class TestRoleAwarePortal:
    def test_anonymous_home_and_dashboard_redirect(self, client):
        assert "owned by the people who do it" in client.get("/").content.decode()
        response = client.get("/dashboard/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_applicant_sees_apply_prompt(self, client):
        user = factories.make_user()
        client.force_login(user)
        page = client.get("/dashboard/").content.decode()
        assert "Apply for membership" in page
        assert "Stewards' desk" not in page

    def test_member_dashboard_and_forbidden_steward_pages(self, client, member):
        client.force_login(member)
        page = client.get("/dashboard/").content.decode()
        assert "Your membership" in page and 'data-testid="role">member' in page
        for url in ("/stewards/members/", "/stewards/applications/", "/organizations/"):
            assert client.get(url).status_code == 403

    def test_navigation_is_grouped_by_role_with_the_current_section_marked(self, client, member, steward):
        import re

        client.force_login(member)
        page = client.get("/work/earnings/").content.decode()
        groups = re.findall(r"<summary[^>]*>([^<]+)</summary>", page)
        assert groups == ["Work", "Money", "Co-op"]
        assert re.search(r'<summary aria-current="true" class="current">Money</summary>', page)
        assert re.search(r'<a href="/work/earnings/" aria-current="page">Earnings</a>', page)
        assert 'data-testid="menu-toggle"' in page
        client.force_login(steward)
        page = client.get("/review/").content.decode()
        assert re.findall(r"<summary[^>]*>([^<]+)</summary>", page) == ["Work", "Money", "Co-op", "Admin"]
        assert re.search(r'<summary aria-current="true" class="current">Admin</summary>', page)

    def test_member_dashboard_shows_what_to_do_next_and_the_money(self, client, member, organization):
        project = factories.make_project(organization, tasks=2, title="Read the codes")
        client.force_login(member)
        page = client.get("/dashboard/").content.decode()
        assert 'data-testid="work-card"' in page and "Start labeling: Read the codes" in page
        assert f"/work/projects/{project.pk}/label/" in page
        assert 'data-testid="balance">USD 0.00</span>' in page

    def test_steward_sees_desk_and_pending_applications(self, client, steward):
        factories.make_applicant(display_name="Nia")
        client.force_login(steward)
        page = client.get("/dashboard/").content.decode()
        assert "Stewards' desk" in page
        assert "Nia" in client.get("/stewards/applications/").content.decode()

    def test_steward_without_mfa_must_set_it_up(self, client):
        steward = factories.make_steward(with_totp=False)
        client.force_login(steward)
        response = client.get("/dashboard/")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_activate_totp"))
        api = client.get("/api/v1/me/")
        assert api.status_code == 403 and api.json()["error"]["code"] == "mfa_required"
        # The MFA pages themselves stay reachable (allauth may first ask to re-enter the password).
        setup = client.get(reverse("mfa_activate_totp"))
        assert setup.status_code == 200 or setup["Location"].startswith("/accounts/reauthenticate/")

    def test_client_sees_own_organization_only(self, client, client_user, organization):
        other = factories.make_organization("Rival Corp")
        client.force_login(client_user)
        page = client.get("/dashboard/").content.decode()
        assert organization.name in page and 'data-testid="role">client' in page
        assert client.get(f"/organizations/{organization.slug}/").status_code == 200
        assert client.get(f"/organizations/{other.slug}/").status_code == 404
        assert client.get("/membership/").status_code == 403


@pytest.mark.django_db
class TestMembershipPages:
    def test_apply_through_the_form(self, client):
        user = factories.make_user()
        client.force_login(user)
        response = client.post(
            "/membership/",
            {"display_name": "Esi", "country": "GH", "timezone_name": "Africa/Accra", "languages": "en, tw", "skills": "ocr"},
        )
        assert response.status_code == 302
        membership = Membership.objects.get(user=user)
        assert (membership.status, membership.languages) == ("applied", ["en", "tw"])

    def test_bad_application_shows_errors_and_writes_nothing(self, client):
        user = factories.make_user()
        client.force_login(user)
        response = client.post("/membership/", {"display_name": "Esi", "country": "Ghana", "timezone_name": "Africa/Accra"})
        assert response.status_code == 200
        assert "two-letter" in response.content.decode() or "at most 2 characters" in response.content.decode()
        assert not Membership.objects.filter(user=user).exists()

    def test_admitted_applicant_accepts_agreement(self, client, steward):
        applicant = factories.make_applicant()
        client.force_login(steward)
        client.post(f"/stewards/members/{applicant.membership.pk}/admit/")
        client.force_login(applicant)
        assert client.post("/membership/activate/", {}).status_code == 302
        assert Membership.objects.get(user=applicant).status == "admitted"  # agreement not ticked
        client.post("/membership/activate/", {"accept_agreement": "on"})
        assert Membership.objects.get(user=applicant).status == "active"

    def test_adversarial_steward_cannot_suspend_alone_from_member_page(self, client, steward, member):
        client.force_login(steward)
        response = client.post(f"/stewards/members/{member.membership.pk}/suspend/", {"reason": "Copy-pasted answers"})
        assert response.status_code == 404  # there is no one-steward suspend action
        assert Membership.objects.get(pk=member.membership.pk).status == "active"
        page = client.get(f"/stewards/members/{member.membership.pk}/").content.decode()
        assert "Propose a suspension" in page and "interim suspension" in page

    def test_member_list_htmx_filter(self, client, steward):
        factories.make_member(display_name="Zed Zulu")
        client.force_login(steward)
        response = client.get("/stewards/members/", {"q": "zulu"}, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert "Zed Zulu" in html and "<html" not in html

    def test_member_leaves(self, client, member):
        client.force_login(member)
        client.post("/membership/leave/", {"reason": "Found another job"})
        assert Membership.objects.get(user=member).status == "left"


@pytest.mark.django_db
class TestOrganizationsAndTokensPages:
    def test_steward_creates_organization_and_token_shown_once(self, client, steward):
        client.force_login(steward)
        response = client.post("/organizations/", {"name": "Vision Co", "contact_email": "ops@vision.example"})
        assert response.status_code == 302
        page = client.post("/organizations/vision-co/", {"token-name": "importer"}).content.decode()
        assert 'data-testid="new-token"' in page and "coop_" in page
        again = client.get("/organizations/vision-co/").content.decode()
        assert 'data-testid="new-token"' not in again and "importer" in again

    def test_duplicate_organization_name_is_refused(self, client, steward, organization):
        client.force_login(steward)
        response = client.post("/organizations/", {"name": "acme labs"})
        assert response.status_code == 200 and "already exists" in response.content.decode()

    def test_client_admin_adds_user_and_member_cannot_manage(self, client, client_user, organization, member):
        client.force_login(client_user)
        client.post(f"/organizations/{organization.slug}/", {"user-email": "dev@acme.example"})
        assert organization.users.filter(email="dev@acme.example").exists()
        client.force_login(member)
        assert client.post(f"/organizations/{organization.slug}/", {"token-name": "x"}).status_code == 404

    def test_member_personal_tokens_page(self, client, member):
        client.force_login(member)
        page = client.post("/tokens/", {"name": "my script"}).content.decode()
        assert 'data-testid="new-token"' in page
        token_id = member.api_tokens.get().pk
        client.post(f"/tokens/{token_id}/revoke/")
        assert member.api_tokens.get().revoked_at is not None

    def test_cannot_revoke_someone_elses_token(self, client, member):
        other = factories.make_member()
        from coop import services

        issued = services.api_token_create(actor=other, user=other, name="theirs")
        client.force_login(member)
        assert client.post(f"/tokens/{issued.token.pk}/revoke/").status_code == 404


@pytest.mark.django_db
def test_notifications_page_marks_read(client, member):
    from coop.services import notification_send

    notification_send(user=member, kind="test", title="Hello there")
    client.force_login(member)
    assert "Hello there" in client.get("/notifications/").content.decode()
    client.post("/notifications/")
    assert not member.notifications.filter(read_at__isnull=True).exists()


@pytest.mark.django_db
def test_dashboard_query_count_is_bounded(client, steward, django_assert_max_num_queries):
    for _ in range(5):
        factories.make_applicant()
    client.force_login(steward)
    with django_assert_max_num_queries(20):
        client.get("/dashboard/")
    with django_assert_max_num_queries(20):
        client.get("/stewards/members/")


@pytest.mark.django_db
class TestHumanWordsAndNumbers:
    def test_dates_show_in_the_members_timezone(self, client, steward):
        from governance import services as governance

        member = factories.make_member(timezone_name="Africa/Nairobi")
        proposal = governance.proposal_create(actor=steward, kind="general_motion", title="Time zones")
        client.force_login(member)
        page = client.get(f"/governance/proposals/{proposal.pk}/").content.decode()
        local = proposal.closes_at.astimezone(__import__("zoneinfo").ZoneInfo("Africa/Nairobi"))
        assert f"{local:%Y-%m-%d %H:%M} EAT" in page

    def test_the_fee_is_a_percentage_and_codes_are_words(self, client, member):
        client.force_login(member)
        page = client.get("/governance/policies/").content.decode()
        assert 'data-testid="policy-coop_fee_rate">5.00%</span>' in page
        page = client.get("/work/preferences/").content.decode()
        assert "Sexual content" in page and "Sexualcontent" not in page


@pytest.mark.django_db
def test_forbidden_pages_say_why_and_what_to_do(client, member, client_user):
    client.force_login(member)
    response = client.get("/stewards/members/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "for stewards" in page and "Go to your dashboard" in page
    client.force_login(client_user)
    page = client.get("/work/").content.decode()
    assert "client console" in page
    suspended = factories.make_member()
    from coop import services as coop_services

    coop_services.membership_suspend(membership=suspended.membership, actor=None, reason="By a members' vote")
    client.force_login(suspended)
    page = client.get("/work/").content.decode()
    assert "suspended" in page and "/governance/appeals/new/" in page
