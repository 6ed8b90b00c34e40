"""Every write in the co-op domain goes through these functions."""

from .membership import (  # noqa: F401
    membership_activate,
    membership_admit,
    membership_apply,
    membership_decline,
    membership_leave,
    membership_reinstate,
    membership_steward_set,
    membership_suspend,
    membership_update_profile,
)
from .notifications import notification_mark_read, notification_send, notification_send_to_organization  # noqa: F401
from .organizations import organization_add_user, organization_create, organization_update  # noqa: F401
from .tokens import api_token_authenticate, api_token_create, api_token_revoke  # noqa: F401
