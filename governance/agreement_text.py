"""A canonical plain-text rendering of contracts and DUAs, and the readable diff of an amendment.

Members vote on the text, so the rendering lists every term in a fixed order,
one term per line (long texts indented below their heading), and the diff of
an amendment is difflib's unified diff of the two renderings.
"""

from __future__ import annotations

import difflib

from .models import Contract, DataUseAgreement, PersonalDataClass
from .rules import PURPOSES


def _block(heading: str, text: str) -> list[str]:
    lines = [line.rstrip() for line in (text or "").strip().splitlines()] or ["(none)"]
    return [f"{heading}:", *[f"  {line}" for line in lines]]


def _items(heading: str, values) -> list[str]:
    return [f"{heading}:", *([f"  - {value}" for value in values] or ["  (none)"])]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def contract_text(contract: Contract) -> str:
    lines = [
        f"Contract: {contract.title}",
        f"Client: {contract.organization.name}",
        *_block("Scope", contract.scope),
        f"Task types: {', '.join(contract.task_types)}",
        "Minimum pay per task (USD):",
        *[f"  {task_type}: {rate}" for task_type, rate in sorted(contract.rate_card.items())],
        *_block("Payment terms", contract.payment_terms),
        f"Term: {contract.term_start:%Y-%m-%d} to {contract.term_end:%Y-%m-%d}",
        f"Termination notice: {contract.termination_notice_days} days",
    ]
    return "\n".join(lines)


def dua_text(dua: DataUseAgreement) -> str:
    lines = [
        f"Data-use agreement for: {dua.contract.title} ({dua.contract.organization.name})",
        *_items("Permitted purposes", [f"{code} ({PURPOSES.get(code, code)})" for code in dua.permitted_purposes]),
        *_items("Prohibited uses", dua.prohibited_uses),
        "Rights granted:",
        f"  train models: {_yes(dua.train_models)}",
        f"  publish trained models: {_yes(dua.publish_trained_models)}",
        f"  commercial use of outputs: {_yes(dua.commercial_use_of_outputs)}",
        f"  redistribute the data: {_yes(dua.redistribute_data)}",
        f"  create derived datasets: {_yes(dua.create_derived_datasets)}",
        f"Retention after the contract ends: {dua.retention_days} days, then deletion with a written attestation",
        f"Attribution required: {_yes(dua.attribution_required)}",
        *_block("Attribution", dua.attribution_text),
        *_items("Sensitive content categories", dua.sensitive_content_categories),
        *_block("Worker welfare provisions", dua.welfare_provisions),
        f"Personal data: {PersonalDataClass(dua.personal_data_class).label}",
        f"Re-identification banned: {_yes(dua.reidentification_banned)}",
        f"Onward transfer allowed: {_yes(dua.onward_transfer_allowed)}",
        *_items("Subcontractors (bound by the same terms)", dua.subcontractors),
        f"Breach reporting: within {dua.breach_reporting_hours} hours",
        *_block("Audit rights", dua.audit_rights),
        f"Public training-data summary required: {_yes(dua.training_summary_required)}",
        *_block("Training-data summary", dua.training_summary),
        f"Revenue share (data dividend): {dua.revenue_share_pct}%",
        *_items("Signatories", [f"{s.get('name')}, {s.get('role')}, {s.get('date')}" for s in dua.signatories]),
    ]
    return "\n".join(lines)


def agreement_text(agreement) -> str:
    return contract_text(agreement) if isinstance(agreement, Contract) else dua_text(agreement)


def agreement_diff(previous, current) -> list[str]:
    """Unified diff lines from `previous` to `current` (both versions of one agreement); [] when identical."""
    return list(
        difflib.unified_diff(
            agreement_text(previous).splitlines(),
            agreement_text(current).splitlines(),
            fromfile=f"version {previous.version}",
            tofile=f"version {current.version}",
            lineterm="",
            n=2,
        )
    )
