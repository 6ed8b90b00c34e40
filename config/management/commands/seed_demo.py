"""Idempotent demo data: a steward, several members, an applicant, a client organization with a token."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from coop import jobs, services
from coop.demo import DEMO_DOMAIN, DEMO_PASSWORD, DEMO_TOTP_SECRET, ensure_demo_user
from coop.models import ApiToken, ClientOrganization, Membership

MEMBERS = [
    ("amina", "Amina Wanjiru", "KE", "Africa/Nairobi", ["en", "sw"], ["ocr", "classification"]),
    ("jose", "José Ramírez", "VE", "America/Caracas", ["es", "en"], ["pairwise", "code"]),
    ("grace", "Grace Santos", "PH", "Asia/Manila", ["en", "tl"], ["ocr", "medical"]),
    ("tunde", "Tunde Okafor", "NG", "Africa/Lagos", ["en", "yo"], ["classification"]),
    ("lena", "Lena Petrova", "BG", "Europe/Sofia", ["bg", "en", "ru"], ["pairwise"]),
]
ORG_NAME = "Acme Vision Labs"


class Command(BaseCommand):
    help = "Create (or top up) demo data and print the demo logins. Safe to run repeatedly."

    @transaction.atomic
    def handle(self, *args, **options):
        steward = ensure_demo_user("steward", "Sam Steward", "GB", "Europe/London", ["en"], ["governance"], steward=True)
        for handle, name, country, tz, languages, skills in MEMBERS:
            ensure_demo_user(handle, name, country, tz, languages, skills)
        applicant = ensure_demo_user("newcomer", "Nia Newcomer", "GH", "Africa/Accra", ["en"], ["ocr"], status=Membership.Status.APPLIED)

        organization = ClientOrganization.objects.filter(name=ORG_NAME).first() or services.organization_create(
            actor=steward,
            name=ORG_NAME,
            contact_name="Casey Client",
            contact_email=f"casey@client.{DEMO_DOMAIN}",
            website="https://acme.example",
        )
        client_email = f"casey@client.{DEMO_DOMAIN}"
        client = organization.users.filter(email=client_email).first() or services.organization_add_user(
            actor=steward, organization=organization, email=client_email, password=DEMO_PASSWORD, is_org_admin=True
        )

        token_file = settings.VAR_DIR / "demo_client_token.txt"
        token_active = ApiToken.objects.filter(organization=organization, name="demo token", revoked_at__isnull=True).exists()
        if not token_active or not token_file.exists():
            ApiToken.objects.filter(organization=organization, name="demo token", revoked_at__isnull=True).update(
                revoked_at=steward.date_joined
            )
            issued = services.api_token_create(actor=steward, organization=organization, name="demo token")
            token_file.parent.mkdir(parents=True, exist_ok=True)
            token_file.write_text(issued.plaintext + "\n")
        token = token_file.read_text().strip()

        from governance.demo import ensure_demo_agreements, ensure_demo_member_proposal, ensure_demo_motion
        from marketplace.demo import ensure_demo_projects

        ensure_demo_agreements(organization, steward)
        ensure_demo_motion(steward)
        ensure_demo_member_proposal()
        demo_projects = ensure_demo_projects(organization, steward)

        transaction.on_commit(jobs.drain)  # zero-service mode: run any queued jobs before this process exits
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (password for all: %s):" % DEMO_PASSWORD))
        self.stdout.write(f"  steward   {steward.email}   (TOTP required: secret {DEMO_TOTP_SECRET}; "
                          f"current code: python manage.py demo_totp {steward.email})")
        for handle, *_ in MEMBERS:
            self.stdout.write(f"  member    {handle}@{DEMO_DOMAIN}")
        self.stdout.write(f"  applicant {applicant.email}")
        self.stdout.write(f"  client    {client.email}   ({organization.name}, org admin)")
        self.stdout.write(f"  client API token ({organization.name}): {token}")
        for project in demo_projects:
            self.stdout.write(f"  project   #{project.pk} {project.title} ({project.task_type}, {project.status})")
