"""Portal pages of the governance app. HTTP only: forms in, services called, templates out."""

from .agreements import (  # noqa: F401
    contract_action,
    contract_detail,
    contract_edit,
    contract_list,
    contract_new,
    dua_action,
    dua_detail,
    dua_edit,
    dua_list,
    dua_new,
)
from .audit import log_export, log_list, policies  # noqa: F401
from .deliberation import (  # noqa: F401
    amendment_decide,
    amendment_propose,
    comment_edit,
    comment_hide,
    comment_post,
    interim_action,
    interim_panel,
    interim_request,
    outcome_set,
    proposal_cosponsor,
    proposal_new,
    proxies,
    proxy_revoke,
)
from .proposals import (  # noqa: F401
    appeal_new,
    preferences,
    proposal_detail,
    proposal_list,
    proposal_results,
    proposal_vote,
    proposal_withdraw,
)
