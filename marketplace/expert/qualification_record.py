"""A member's portable record of qualifications: their grants and gold accuracy, signed by the co-op.

HMAC-SHA256 over canonical JSON, with a key derived from SECRET_KEY (salted): anyone can check a document
with POST /api/v1/qualifications/verify/; any change to any field breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.utils import timezone
from django.utils.crypto import salted_hmac

from coop.models import Membership, User

from ..models import WorkerProjectStats
from .models import QualificationGrant

EXPORT_FORMAT = "coop.qualifications/v1"
SIGNING_SALT = "marketplace.expert.qualifications.export"


def _signing_key() -> bytes:
    return salted_hmac(SIGNING_SALT, "key", algorithm="sha256").digest()


def _canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signature(body: dict) -> str:
    return hmac.new(_signing_key(), _canonical(body), hashlib.sha256).hexdigest()


def key_id() -> str:
    return hashlib.sha256(_signing_key()).hexdigest()[:16]


def qualification_export(*, member: User) -> dict:
    """The member's qualifications and gold accuracy per project, signed (HMAC-SHA256 over canonical JSON).

    Anyone can check a document with POST /api/v1/qualifications/verify/ (the co-op holds the key; rotating
    SECRET_KEY changes `key_id`, and older documents then verify only while the old key is a fallback).
    """
    membership = Membership.objects.filter(user=member).first()
    grants = QualificationGrant.objects.filter(member=member).select_related("qualification", "attempt").order_by("granted_at", "pk")
    stats = WorkerProjectStats.objects.filter(worker=member, gold_answered__gt=0).select_related("project__organization").order_by("project_id")
    body = {
        "format": EXPORT_FORMAT,
        "issuer": "data-coop",
        "issued_at": timezone.now().isoformat(),
        "member": {
            "display_name": membership.display_name if membership else member.display_name,
            "member_number": membership.member_number if membership else None,
        },
        "qualifications": [
            {
                "slug": g.qualification.slug,
                "name": g.qualification.name,
                "source": g.source,
                "score": str(g.attempt.score) if g.attempt_id else None,
                "granted_at": g.granted_at.isoformat(),
                "expires_at": g.expires_at.isoformat() if g.expires_at else None,
                "proposal": g.proposal_id,
            }
            for g in grants
        ],
        "gold_accuracy": [
            {
                "project": s.project.title,
                "client": s.project.organization.name,
                "task_type": s.project.task_type,
                "gold_answered": s.gold_answered,
                "gold_correct": s.gold_correct,
                "accuracy": str(s.gold_accuracy),
            }
            for s in stats
        ],
    }
    return {**body, "signature": {"alg": "HMAC-SHA256", "key_id": key_id(), "value": _signature(body)}}


def qualification_export_verify(document) -> bool:
    """True when the document is exactly what the co-op signed (any change to any field breaks it)."""
    if not isinstance(document, dict) or not isinstance(document.get("signature"), dict):
        return False
    body = {k: v for k, v in document.items() if k != "signature"}
    value = document["signature"].get("value")
    if not isinstance(value, str) or document.get("format") != EXPORT_FORMAT:
        return False
    return hmac.compare_digest(value, _signature(body))
