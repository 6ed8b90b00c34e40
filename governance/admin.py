"""Governance in the admin: read-only for everyone. Every change goes through the services (portal, API, votes)."""

from django.contrib import admin

from coop.admin_site import ReadOnlyAdmin

from .models import (
    Contract,
    DataExportLog,
    DataUseAgreement,
    Elector,
    GovernanceLog,
    NotificationPreference,
    Participation,
    PolicyValue,
    Proposal,
    SealedBallot,
    SecretBallot,
    Vote,
    VoteHistory,
)

ReadOnly = ReadOnlyAdmin  # append-only records and vote-controlled data


@admin.register(Contract)
class ContractAdmin(ReadOnly):
    list_display = ["title", "organization", "version", "status", "term_start", "term_end", "ratified_by", "activated_at"]
    list_filter = ["status", "organization"]
    search_fields = ["title", "organization__name", "scope"]
    list_select_related = ["organization", "ratified_by"]


@admin.register(DataUseAgreement)
class DataUseAgreementAdmin(ReadOnly):
    list_display = [
        "__str__",
        "version",
        "status",
        "retention_days",
        "revenue_share_pct",
        "deletion_requested_at",
        "deletion_attested_at",
    ]
    list_filter = ["status", "personal_data_class", "train_models", "commercial_use_of_outputs", "contract__organization"]
    search_fields = ["contract__title", "contract__organization__name", "deletion_statement"]
    list_select_related = ["contract__organization"]


@admin.register(DataExportLog)
class DataExportLogAdmin(ReadOnly):
    list_display = ["created_at", "organization", "dua", "purpose", "project_id", "rows"]
    list_filter = ["purpose", "organization"]
    search_fields = ["organization__name", "purpose"]
    list_select_related = ["organization", "dua__contract__organization"]
    date_hierarchy = "created_at"


@admin.register(PolicyValue)
class PolicyValueAdmin(ReadOnly):
    list_display = ["key", "value", "effective_from", "set_by", "created_at"]
    list_filter = ["key"]
    search_fields = ["key", "set_by__title"]
    list_select_related = ["set_by"]


@admin.register(Proposal)
class ProposalAdmin(ReadOnly):
    list_display = [
        "id",
        "title",
        "kind",
        "method",
        "status",
        "opens_at",
        "closes_at",
        "electorate_size",
        "outcome",
        "effect_status",
    ]
    list_filter = ["kind", "status", "outcome", "effect_status", "method", "secret", "decided_by"]
    search_fields = ["title", "body", "effect_key"]
    date_hierarchy = "created_at"


@admin.register(Elector)
class ElectorAdmin(ReadOnly):
    list_display = ["proposal", "membership"]
    list_filter = ["proposal__kind"]
    search_fields = ["proposal__title", "membership__display_name"]
    list_select_related = ["proposal", "membership"]


@admin.register(Vote)
class VoteAdmin(ReadOnly):
    list_display = ["proposal", "membership", "choice", "score", "revision", "cast_at", "changed_at"]
    list_filter = ["choice", "proposal__kind"]
    search_fields = ["proposal__title", "membership__display_name"]
    list_select_related = ["proposal", "membership"]


@admin.register(VoteHistory)
class VoteHistoryAdmin(ReadOnly):
    list_display = ["vote", "revision", "choice", "score", "cast_at"]
    list_filter = ["choice"]
    search_fields = ["vote__proposal__title", "vote__membership__display_name"]
    list_select_related = ["vote__proposal", "vote__membership"]


@admin.register(Participation)
class ParticipationAdmin(ReadOnly):
    list_display = ["proposal", "membership"]
    list_filter = ["proposal__kind"]
    search_fields = ["proposal__title", "membership__display_name"]
    list_select_related = ["proposal", "membership"]


@admin.register(SealedBallot)
class SealedBallotAdmin(ReadOnly):
    # Encrypted until the close moves it to SecretBallot; there is nothing readable to show but that it exists.
    list_display = ["id", "proposal"]
    fields = ["id", "proposal"]
    list_select_related = ["proposal"]


@admin.register(SecretBallot)
class SecretBallotAdmin(ReadOnly):
    # No voter column exists to show; the list order is the random key's.
    list_display = ["id", "proposal", "choice", "score"]
    list_filter = ["choice", "proposal__kind"]
    search_fields = ["proposal__title"]
    list_select_related = ["proposal"]


@admin.register(GovernanceLog)
class GovernanceLogAdmin(ReadOnly):
    list_display = ["created_at", "action", "actor", "object_type", "object_id", "summary"]
    list_filter = ["action", "object_type"]
    search_fields = ["summary", "action", "object_id"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnly):
    list_display = ["user", "daily_digest", "last_digest_at", "updated_at"]
    list_filter = ["daily_digest"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


# --- Member initiative and due process (read-only: members and stewards act in the portal) ----------------

from .models import Amendment, Comment, Delegation, InterimSuspension, Sponsorship  # noqa: E402


@admin.register(Sponsorship)
class SponsorshipAdmin(ReadOnly):
    list_display = ["proposal", "membership", "created_at"]
    list_select_related = ["proposal", "membership"]


@admin.register(Comment)
class CommentAdmin(ReadOnly):
    list_display = ["proposal", "author", "created_at", "edited_at", "hidden_at", "hidden_reason"]
    list_filter = ["hidden_at"]
    search_fields = ["body", "hidden_reason"]
    list_select_related = ["proposal", "author"]


@admin.register(Amendment)
class AmendmentAdmin(ReadOnly):
    list_display = ["proposal", "author", "status", "created_at", "decided_at", "ballot"]
    list_filter = ["status"]
    list_select_related = ["proposal", "author", "ballot"]


@admin.register(Delegation)
class DelegationAdmin(ReadOnly):
    list_display = ["delegator", "delegate", "category", "created_at", "revoked_at"]
    list_filter = ["category"]
    list_select_related = ["delegator", "delegate"]


@admin.register(InterimSuspension)
class InterimSuspensionAdmin(ReadOnly):
    list_display = ["membership", "ground", "status", "requested_by", "confirmed_by", "starts_at", "ends_at", "review"]
    list_filter = ["status", "ground"]
    list_select_related = ["membership", "requested_by", "confirmed_by", "review"]
