from django.core.management.base import BaseCommand, CommandError

from coop.demo import DEMO_DOMAIN, current_totp_code
from coop.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account (demo domain only) so the demo steward can sign in."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if not email.lower().endswith("@" + DEMO_DOMAIN):
            raise CommandError(f"Only demo accounts (@{DEMO_DOMAIN}) have a known TOTP secret.")
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            raise CommandError("No such demo account; run `manage.py seed_demo` first.")
        self.stdout.write(current_totp_code(user))
