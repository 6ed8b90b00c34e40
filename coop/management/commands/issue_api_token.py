from django.core.management.base import BaseCommand, CommandError

from coop.errors import ApplicationError
from coop.models import ClientOrganization, User
from coop.services import api_token_create


class Command(BaseCommand):
    help = "Issue a new API token for a client organization (--org) or a member (--user) and print it once."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--org", help="Organization name or slug")
        target.add_argument("--user", help="Member's email address")
        parser.add_argument("--name", default="issued from the command line")

    def handle(self, *args, org=None, user=None, name="", **options):
        try:
            if org:
                organization = ClientOrganization.objects.filter(name=org).first() or ClientOrganization.objects.filter(slug=org).first()
                if organization is None:
                    raise CommandError(f"No organization named {org!r}.")
                issued = api_token_create(actor=None, organization=organization, name=name)
            else:
                person = User.objects.filter(email=user.lower()).first()
                if person is None:
                    raise CommandError(f"No user with email {user!r}.")
                issued = api_token_create(actor=None, user=person, name=name)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stderr.write(f"Token {issued.token.prefix}… created; it is shown once:")
        self.stdout.write(issued.plaintext)
