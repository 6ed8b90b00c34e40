"""Governance data: agreements with clients, co-op policies, proposals and ballots, the audit log.

Split by concept: agreements.py (contracts, data-use agreements, export log),
policies.py (versioned co-op settings), proposals.py (proposals, electorate,
votes, secret ballots), audit.py (governance log, notification preferences).
"""

from .agreements import AgreementStatus, Contract, DataExportLog, DataUseAgreement, PersonalDataClass, TaskType  # noqa: F401
from .audit import GovernanceLog, NotificationPreference  # noqa: F401
from .deliberation import Amendment, Comment, Delegation, InterimSuspension, Sponsorship  # noqa: F401
from .policies import PolicyValue  # noqa: F401
from .proposals import (  # noqa: F401
    Choice,
    EffectStatus,
    Elector,
    Outcome,
    Participation,
    Proposal,
    ProposalKind,
    ProposalStatus,
    SealedBallot,
    SecretBallot,
    Threshold,
    Vote,
    VoteHistory,
    VotingMethod,
)
