"""Every governance write goes through these functions (keyword-only, in transactions, logged)."""

from .agreements import agreement_ratify, agreement_return_to_draft, agreements_roll_terms, contract_terminate  # noqa: F401
from .audit import log_write  # noqa: F401
from .ballots import CastReceipt, ballot_cast  # noqa: F401
from .contracts import contract_amend, contract_create, contract_propose, contract_update  # noqa: F401
from .delegation import delegation_revoke, delegation_set  # noqa: F401
from .deliberation import (  # noqa: F401
    amendment_decide,
    amendment_propose,
    comment_edit,
    comment_hide,
    comment_post,
    outcome_statement_set,
)
from .duas import (  # noqa: F401
    dua_amend,
    dua_attest_deletion,
    dua_check_export,
    dua_check_in_force,
    dua_create,
    dua_export_finish,
    dua_log_export,
    dua_propose,
    dua_request_deletions_due,
    dua_update,
)
from .due_process import (  # noqa: F401
    appeal_file,
    interim_suspension_cancel,
    interim_suspension_confirm,
    interim_suspension_request,
    interim_suspensions_expire_due,
    panel_draw,
    suspension_propose,
)
from .initiative import proposal_cosponsor, proposal_draft  # noqa: F401
from .notify import governance_digest_send, preference_set, proposals_remind_due  # noqa: F401
from .policies import policy_set  # noqa: F401
from .proposal_lifecycle import proposal_close, proposal_withdraw, proposals_close_due, proposals_open_due  # noqa: F401
from .proposals import proposal_create  # noqa: F401
