"""Who an API request acts for when it is not a person."""


class OrganizationPrincipal:
    """request.user for calls made with an organization token: the organization itself, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_member = False
    is_steward = False
    is_client = True
    role = "client"
    pk = None
    id = None

    def __init__(self, token):
        self.token = token
        self.organization = token.organization
        self.organization_id = token.organization_id

    def __str__(self):
        return f"organization:{self.organization.slug}"

    def has_perm(self, perm, obj=None):
        return False
