"""Test data built through the real services where practical."""

from __future__ import annotations

import itertools

from allauth.account.models import EmailAddress

from coop import services
from coop.models import ClientOrganization, Membership, User

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def make_user(email: str | None = None, *, password: str = PASSWORD, verified: bool = True) -> User:
    email = email or f"person{next(_seq)}@example.org"
    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_applicant(email: str | None = None, **profile) -> User:
    user = make_user(email)
    defaults = {"display_name": f"Applicant {user.pk}", "country": "KE", "timezone_name": "Africa/Nairobi", "languages": ["en"]}
    defaults.update(profile)
    services.membership_apply(user=user, **defaults)
    return User.objects.select_related("membership").get(pk=user.pk)


def make_member(email: str | None = None, **profile) -> User:
    user = make_applicant(email, **profile)
    membership = services.membership_admit(membership=user.membership, actor=None)
    services.membership_activate(membership=membership, actor=user, accept_agreement=True)
    return User.objects.select_related("membership").get(pk=user.pk)


def make_steward(email: str | None = None, *, with_totp: bool = True) -> User:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = make_member(email)
    services.membership_steward_set(membership=user.membership, actor=None, is_steward=True)
    if with_totp:
        TOTP.activate(user, generate_totp_secret())
    return User.objects.select_related("membership").get(pk=user.pk)


def make_organization(name: str | None = None, **details) -> ClientOrganization:
    return services.organization_create(actor=None, name=name or f"Client {next(_seq)}", **details)


def make_client_user(organization: ClientOrganization | None = None, *, admin: bool = True, email: str | None = None) -> User:
    organization = organization or make_organization()
    return services.organization_add_user(
        actor=None,
        organization=organization,
        email=email or f"client{next(_seq)}@{organization.slug}.example",
        password=PASSWORD,
        is_org_admin=admin,
    )


def org_token(organization: ClientOrganization, name: str = "test token") -> str:
    return services.api_token_create(actor=None, organization=organization, name=name).plaintext


def membership_of(user: User) -> Membership:
    return Membership.objects.get(user=user)


# --- Marketplace --------------------------------------------------------------------------------


def png_base64(text: str = "ab12", size=(80, 30)) -> str:
    """A small real PNG (text drawn on it) as base64, the way clients send images."""
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text((5, 8), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def task_rows(task_type: str, n: int, *, start: int = 0, gold_every: int = 0) -> list[dict]:
    rows = []
    for i in range(start, start + n):
        if task_type == "ocr":
            row = {"external_id": f"img-{i}", "data": {"image": png_base64(f"t{i}")}}
            gold = {"text": f"t{i}"}
        elif task_type == "classification":
            row = {"external_id": f"txt-{i}", "data": {"text": f"Example text number {i}"}}
            gold = {"choice": "positive"}
        elif task_type == "multilabel":
            row = {"external_id": f"tags-{i}", "data": {"text": f"A review about delivery and price, number {i}"}}
            gold = {"choices": ["delivery", "price"]}
        elif task_type == "ranking":
            row = {"external_id": f"rank-{i}", "data": {"prompt": f"Q{i}?", "responses": ["first", "second", "third"]}}
            gold = {"order": [[0], [1], [2]]}
        elif task_type in ("rubric", "rewrite"):
            row = {"external_id": f"{task_type}-{i}", "data": {"prompt": f"Q{i}?", "response": f"An answer to question {i}."}}
            gold = {"scores": {"accuracy": 3, "tone": 1}, "rationales": {"accuracy": "Fine."}} if task_type == "rubric" else None
        else:
            row = {"external_id": f"pair-{i}", "data": {"prompt": f"Q{i}?", "response_a": "A", "response_b": "B"}}
            gold = {"preferred": "a"}
        if gold_every and i % gold_every == 0:
            row["gold"] = gold
        rows.append(row)
    return rows


RUBRIC_CONFIG = {
    "dimensions": [
        {"key": "accuracy", "label": "Accuracy", "scale": ["1", "2", "3", "4", "5"], "rationale": "required"},
        {"key": "tone", "label": "Tone", "scale": ["rude", "neutral", "kind"], "rationale": "none"},
    ],
    "tolerance": 0,
}


def make_project(
    organization=None, *, task_type: str = "ocr", tasks: int = 5, publish: bool = True, gold_every: int = 0, fund: bool = True, **fields
):
    """A project created and filled through the real services, funded and published unless told not to."""
    from marketplace.services import importing, projects

    organization = organization or make_organization()
    defaults = {
        "title": f"{task_type} project",
        "instructions": "Type **exactly** what you see.",
        "pay_per_task": "0.10",
        "estimated_seconds": 12,
        "overlap": 1,
        "max_overlap": 3,
        "gold_ratio": "0",
    }
    if task_type == "classification":
        defaults["choices"] = ["positive", "negative", "neutral"]
    elif task_type == "multilabel":
        defaults["choices"] = ["delivery", "quality", "price"]
    elif task_type == "rubric":
        defaults["task_config"] = RUBRIC_CONFIG
    elif task_type in ("ranking", "rewrite"):
        defaults.update(pay_per_task="0.40", estimated_seconds=60)
    defaults.update(fields)
    project = projects.project_create(organization=organization, task_type=task_type, **defaults)
    if tasks:
        rows = task_rows(task_type, tasks, gold_every=gold_every)
        importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    if publish:
        make_active_dua(organization)
        if fund:
            fund_project(project)
        project = projects.project_publish(project=project)
    return project


def treasurer() -> User:
    """A superuser outside the membership who records deposits in tests (so electorates stay as the test made them)."""
    user = User.objects.filter(email="treasurer@coop.test").first()
    return user or User.objects.create_superuser(email="treasurer@coop.test", password=PASSWORD)


def deposit(organization, amount, *, reference: str | None = None):
    """Record a client's deposit (as a steward would) through the ledger."""
    from decimal import Decimal

    from marketplace.ledger.services import deposit_record

    return deposit_record(
        organization=organization, amount=Decimal(str(amount)), reference=reference or f"test-{next(_seq)}", recorded_by=treasurer()
    )


def fund_project(project, *, extra="0"):
    """Deposit what publishing the project will move into its escrow (plus `extra`), if the client's cash falls short."""
    from decimal import Decimal

    from marketplace.ledger.selectors import client_cash_balance
    from marketplace.services.payment import escrow_required

    need = escrow_required(project)["required"] - escrow_required(project)["escrow"] + Decimal(extra)
    missing = need - client_cash_balance(project.organization, project.currency)
    if missing > 0:
        deposit(project.organization, missing)


def answer_for(task_type: str, value: str | None = None) -> dict:
    if task_type == "ocr":
        return {"text": value or "abc"}
    if task_type == "classification":
        return {"choice": value or "positive"}
    return {"preferred": value or "a", "reason": ""}


# --- Governance ---------------------------------------------------------------------------------

ALL_TASK_TYPES = ("ocr", "classification", "pairwise", "ranking", "rubric", "multilabel", "rewrite")


def ratify_by_vote(agreement, *, voters=None):
    """Propose a contract or DUA and have members vote it through (the real governance path)."""
    from governance import services as governance
    from governance.models import Elector

    steward = User.objects.filter(membership__is_steward=True, membership__status="active").first() or make_steward()
    if agreement.__class__.__name__ == "Contract":
        proposal = governance.contract_propose(actor=steward, contract=agreement)
    else:
        proposal = governance.dua_propose(actor=steward, dua=agreement)
    if voters is None:  # the whole frozen electorate votes yes: quorum is met whatever the test's size
        voters = [e.membership.user for e in Elector.objects.filter(proposal=proposal).select_related("membership__user")]
    for voter in voters:
        governance.ballot_cast(proposal=proposal, user=voter, choice="yes")
    governance.proposal_close(proposal=proposal, now=proposal.closes_at)
    agreement.refresh_from_db()
    return agreement


def make_active_dua(organization, *, task_types=ALL_TASK_TYPES, **dua_terms):
    """An active contract and DUA of `organization` covering `task_types`, ratified by a members' vote."""
    import datetime as dt

    from django.utils import timezone

    from governance import services as governance
    from governance.selectors import dua_covering
    from marketplace.services.projects import SENSITIVE_CATEGORIES

    existing = [dua_covering(organization=organization, task_type=t) for t in task_types]
    if all(existing):
        return existing[0]
    today = timezone.localdate()
    contract = governance.contract_create(
        actor=None,
        organization=organization,
        title=f"{organization.name} labeling contract",
        scope="Labeling work posted through the co-op's API.",
        task_types=list(task_types),
        rate_card={t: "0.05" for t in task_types},
        payment_terms="Escrow before publishing.",
        term_start=today - dt.timedelta(days=1),
        term_end=today + dt.timedelta(days=365),
        termination_notice_days=30,
    )
    ratify_by_vote(contract)
    terms = {
        "permitted_purposes": ["model_training", "evaluation"],
        "prohibited_uses": ["Surveillance of individuals"],
        "train_models": True,
        "retention_days": 90,
        "signatories": [{"name": "Casey Client", "role": "CTO", "date": str(today)}],
        # Publishing checks the project's sensitive-content categories against these; tests of that rule narrow them.
        "sensitive_content_categories": list(SENSITIVE_CATEGORIES),
        "welfare_provisions": "Content warnings before each task, opt-in per category, breaks at will.",
    } | dua_terms
    dua = governance.dua_create(actor=None, contract=contract, **terms)
    return ratify_by_vote(dua)
