"""Contracts and DUAs: drafting rules, amendments with diffs, and the enforcement API the marketplace calls."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from coop.errors import ApplicationError
from coop.models import Notification
from governance import selectors, services
from governance.agreement_text import agreement_diff
from governance.models import Contract, DataExportLog, DataUseAgreement, GovernanceLog
from tests import factories

from .helpers import contract_terms, dua_terms, ratify

pytestmark = pytest.mark.django_db


class TestContracts:
    def test_invalid_terms_list_every_field(self, steward, organization):
        with pytest.raises(ApplicationError) as excinfo:
            services.contract_create(
                actor=steward,
                organization=organization,
                **contract_terms(
                    title="",
                    task_types=["ocr", "poetry"],
                    rate_card={"ocr": "-1", "audio": "1"},
                    term_start="2026-05-01",
                    term_end="2026-01-01",
                ),
            )
        assert excinfo.value.code == "invalid_contract"
        assert set(excinfo.value.fields) == {"title", "task_types", "rate_card", "term_end"}
        assert not Contract.objects.exists()

    def test_only_stewards_draft_and_drafts_only_are_edited(self, steward, member, organization, voters):
        with pytest.raises(ApplicationError):
            services.contract_create(actor=member, organization=organization, **contract_terms())
        contract = services.contract_create(actor=steward, organization=organization, **contract_terms())
        services.contract_update(actor=steward, contract=contract, rate_card={"ocr": "0.13"})
        contract.refresh_from_db()
        assert contract.rate_card == {"ocr": "0.13"}
        services.contract_propose(actor=steward, contract=contract)
        with pytest.raises(ApplicationError) as excinfo:
            services.contract_update(actor=steward, contract=contract, title="Sneaky change during the vote")
        assert excinfo.value.code == "not_draft"

    def test_amendment_has_a_readable_diff_and_only_one_at_a_time(self, steward, active_contract):
        amendment = services.contract_amend(
            actor=steward, contract=active_contract, rate_card={"ocr": "0.15"}, termination_notice_days=60
        )
        diff = agreement_diff(active_contract, amendment)
        assert diff[:2] == ["--- version 1", "+++ version 2"]
        assert "-  ocr: 0.12" in diff and "+  ocr: 0.15" in diff
        assert "-Termination notice: 30 days" in diff and "+Termination notice: 60 days" in diff
        assert not any(line.startswith(("+Scope", "-Scope")) for line in diff)
        with pytest.raises(ApplicationError) as excinfo:
            services.contract_amend(actor=steward, contract=active_contract, rate_card={"ocr": "0.20"})
        assert excinfo.value.code == "amendment_open"

    def test_database_allows_one_active_version_per_family(self, steward, active_contract):
        amendment = services.contract_amend(actor=steward, contract=active_contract)
        with pytest.raises(IntegrityError), transaction.atomic():
            Contract.objects.filter(pk=amendment.pk).update(status="active")

    def test_contracts_expire_with_their_term_and_their_duas_with_them(self, steward, active_dua):
        contract = active_dua.contract
        after = timezone.now() + dt.timedelta(days=400)
        assert services.agreements_roll_terms(now=after) == {"started": 0, "expired": 1}
        assert services.agreements_roll_terms(now=after) == {"started": 0, "expired": 0}
        contract.refresh_from_db()
        active_dua.refresh_from_db()
        assert contract.status == "expired" and active_dua.status == "expired"

    def test_termination_needs_a_reason_and_ends_the_duas(self, steward, active_dua, client_user):
        with pytest.raises(ApplicationError):
            services.contract_terminate(actor=steward, contract=active_dua.contract, reason="")
        services.contract_terminate(actor=steward, contract=active_dua.contract, reason="Client asked for unpaid trial work")
        active_dua.refresh_from_db()
        assert active_dua.status == "terminated" and active_dua.contract.status == "terminated"
        assert Notification.objects.filter(user=client_user, kind="governance.contract_terminated").exists()


class TestDuaTerms:
    def test_rules_between_terms(self, steward, active_contract):
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_create(
                actor=steward,
                contract=active_contract,
                **dua_terms(
                    permitted_purposes=["model_training", "commercial_product", "spying"],
                    train_models=False,
                    reidentification_banned=False,
                    subcontractors=["Cheap Labels Ltd"],
                    revenue_share_pct="101",
                    signatories=[{"name": "Casey"}],
                ),
            )
        assert set(excinfo.value.fields) == {
            "permitted_purposes",
            "reidentification_banned",
            "subcontractors",
            "revenue_share_pct",
            "signatories",
        }
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_create(actor=steward, contract=active_contract, **dua_terms(permitted_purposes=["commercial_product"]))
        assert set(excinfo.value.fields) == {"commercial_use_of_outputs"}
        assert not DataUseAgreement.objects.exists()

    def test_database_checks_the_revenue_share(self, active_dua):
        with pytest.raises(IntegrityError), transaction.atomic():
            DataUseAgreement.objects.filter(pk=active_dua.pk).update(revenue_share_pct=Decimal(120))

    def test_dua_amendment_diff(self, steward, active_dua, voters):
        amendment = services.dua_amend(actor=steward, dua=active_dua, permitted_purposes=["evaluation"], retention_days=30)
        diff = agreement_diff(active_dua, amendment)
        assert "-  - model_training (Training machine-learning models)" in diff
        assert "+Retention after the contract ends: 30 days, then deletion with a written attestation" in diff
        ratify(amendment, steward, voters)
        active_dua.refresh_from_db()
        assert amendment.status == "active" and active_dua.status == "superseded"


class TestEnforcement:
    def test_dua_covering(self, organization, active_dua):
        assert selectors.dua_covering(organization=organization, task_type="ocr") == active_dua
        assert selectors.dua_covering(organization=organization, task_type="pairwise") is None  # not in the contract
        assert selectors.dua_covering(organization=factories.make_organization(), task_type="ocr") is None
        contract = active_dua.contract
        assert (
            selectors.dua_covering(organization=organization, task_type="ocr", at=timezone.now() + dt.timedelta(days=400)) is None
        )  # outside the term
        assert contract.term_end < timezone.localdate() + dt.timedelta(days=400)

    def test_no_cover_without_an_active_dua_or_contract(self, steward, organization, active_contract, voters):
        draft = services.dua_create(actor=steward, contract=active_contract, **dua_terms())
        assert selectors.dua_covering(organization=organization, task_type="ocr") is None
        ratify(draft, steward, voters)
        assert selectors.dua_covering(organization=organization, task_type="ocr") == draft
        services.contract_terminate(actor=steward, contract=active_contract, reason="Breach of the welfare clause")
        assert selectors.dua_covering(organization=organization, task_type="ocr") is None

    def test_cover_follows_contract_amendments(self, steward, organization, active_dua, voters):
        amendment = services.contract_amend(
            actor=steward,
            contract=active_dua.contract,
            task_types=["ocr", "pairwise"],
            rate_card={"ocr": "0.12", "pairwise": "0.03"},
        )
        ratify(amendment, steward, voters)
        assert selectors.dua_covering(organization=organization, task_type="pairwise") == active_dua

    def test_export_checks_purpose_and_is_logged(self, organization, active_dua):
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_log_export(
                dua=active_dua, organization=organization, purpose="commercial_product", project_id=7, rows=100
            )
        assert excinfo.value.code == "purpose_not_permitted" and excinfo.value.status == 403
        assert not DataExportLog.objects.exists()
        entry = services.dua_log_export(
            dua=active_dua, organization=organization, purpose="model_training", project_id=7, rows=100
        )
        assert (entry.purpose, entry.project_id, entry.rows) == ("model_training", 7, 100)
        assert GovernanceLog.objects.filter(action="dua.export", object_id=str(active_dua.pk)).exists()
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_log_export(
                dua=active_dua, organization=factories.make_organization(), purpose="evaluation", project_id=7, rows=1
            )
        assert excinfo.value.code == "wrong_organization"

    def test_export_refused_after_retention(self, organization, active_dua):
        ends_on = selectors.dua_retention_ends_on(active_dua)
        assert ends_on == active_dua.contract.term_end + dt.timedelta(days=90)
        last_day = timezone.make_aware(dt.datetime.combine(ends_on, dt.time(12)))
        services.dua_check_export(dua=active_dua, purpose="evaluation", at=last_day)
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_log_export(
                dua=active_dua,
                organization=organization,
                purpose="evaluation",
                project_id=7,
                rows=1,
                at=last_day + dt.timedelta(days=1),
            )
        assert excinfo.value.code == "retention_expired" and excinfo.value.status == 403
        assert not DataExportLog.objects.exists()

    def test_draft_dua_is_not_in_force(self, steward, active_contract):
        draft = services.dua_create(actor=steward, contract=active_contract, **dua_terms())
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_check_export(dua=draft, purpose="evaluation")
        assert excinfo.value.code == "dua_not_in_force"

    def test_retention_overdue_asks_the_client_once_and_attestation_clears_it(
        self, steward, active_dua, client_user, organization
    ):
        services.contract_terminate(actor=steward, contract=active_dua.contract, reason="Project cancelled by the client")
        active_dua.refresh_from_db()
        assert selectors.dua_retention_overdue().count() == 0
        later = timezone.now() + dt.timedelta(days=91)
        assert list(selectors.dua_retention_overdue(at=later)) == [active_dua]
        assert services.dua_request_deletions_due(now=later) == 1
        assert services.dua_request_deletions_due(now=later + dt.timedelta(hours=1)) == 0  # idempotent
        asked = Notification.objects.filter(user=client_user, kind="governance.deletion_requested")
        assert asked.count() == 1 and f"/api/v1/dua/{active_dua.pk}/" in asked.get().body
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_attest_deletion(dua=active_dua, actor=steward, statement="We deleted everything from every bucket.")
        assert excinfo.value.code == "not_client"
        with pytest.raises(ApplicationError):
            services.dua_attest_deletion(dua=active_dua, actor=client_user, statement="gone")
        services.dua_attest_deletion(
            dua=active_dua, actor=client_user, statement="Deleted the S3 bucket acme-labels and all backups."
        )
        active_dua.refresh_from_db()
        assert active_dua.deletion_attested_by == client_user and active_dua.deletion_attested_at
        assert selectors.dua_retention_overdue(at=later).count() == 0
        with pytest.raises(ApplicationError) as excinfo:
            services.dua_attest_deletion(dua=active_dua, actor=client_user, statement="Deleted the S3 bucket acme-labels again.")
        assert excinfo.value.code == "already_attested"
