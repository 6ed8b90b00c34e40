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
from .proposals import (  # noqa: F401
    appeal_new,
    preferences,
    proposal_detail,
    proposal_list,
    proposal_new,
    proposal_results,
    proposal_vote,
    proposal_withdraw,
)
