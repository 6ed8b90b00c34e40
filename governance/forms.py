"""Portal forms of the governance app: input shape only; the rules live in the services."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from coop.models import ClientOrganization, Membership

from .models import Contract, DataUseAgreement, PersonalDataClass, Proposal, ProposalKind, TaskType, Threshold, VotingMethod
from .rules import KIND_RULES, POLICY_KINDS, PURPOSES

K = ProposalKind


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


# --- Votes ------------------------------------------------------------------------------------------


class YesNoVoteForm(forms.Form):
    choice = forms.ChoiceField(widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; required for a block: say what would have to change.",
    )

    def __init__(self, *args, proposal: Proposal, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("yes", "Yes"), ("no", "No"), ("abstain", "Abstain")]
        if proposal.threshold == Threshold.CONSENT:
            choices.append(("block", "Block"))
        self.fields["choice"].choices = choices

    def ballot(self) -> dict:
        return {"choice": self.cleaned_data["choice"], "reason": self.cleaned_data.get("reason", "")}


class ScoreVoteForm(forms.Form):
    score = forms.CharField(required=False, label="Your number", widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    abstain = forms.BooleanField(required=False, label="Abstain")
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, proposal: Proposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].help_text = f"Between {proposal.score_min.normalize():f} and {proposal.score_max.normalize():f}."

    def ballot(self) -> dict:
        data = self.cleaned_data
        if data.get("abstain"):
            return {"choice": "abstain", "reason": data.get("reason", "")}
        return {"choice": "score", "score": data.get("score"), "reason": data.get("reason", "")}


class RankedVoteForm(forms.Form):
    """One rank selector per candidate (1 = first choice); leave blank the ones you do not rank."""

    abstain = forms.BooleanField(required=False, label="Abstain")

    def __init__(self, *args, proposal: Proposal, **kwargs):
        super().__init__(*args, **kwargs)
        ranks = [("", "—")] + [(str(n), str(n)) for n in range(1, len(proposal.choices) + 1)]
        self.candidates = proposal.choices
        for candidate in proposal.choices:
            self.fields[f"rank_{candidate['key']}"] = forms.ChoiceField(choices=ranks, required=False, label=candidate["label"])

    def clean(self):
        data = super().clean()
        used = [data.get(f"rank_{c['key']}") for c in self.candidates if data.get(f"rank_{c['key']}")]
        if len(used) != len(set(used)):
            raise forms.ValidationError("Give each rank to one candidate only.")
        return data

    def ballot(self) -> dict:
        data = self.cleaned_data
        if data.get("abstain"):
            return {"choice": "abstain"}
        ranked = sorted((int(data[f"rank_{c['key']}"]), c["key"]) for c in self.candidates if data.get(f"rank_{c['key']}"))
        return {"choice": "ranking", "ranking": [key for _, key in ranked]}


def vote_form_for(proposal: Proposal, data=None):
    form_class = {VotingMethod.YES_NO: YesNoVoteForm, VotingMethod.SCORE: ScoreVoteForm, VotingMethod.RANKED: RankedVoteForm}[
        proposal.method
    ]
    return form_class(data, proposal=proposal)


# --- Proposals (stewards) ------------------------------------------------------------------------------

STEWARD_KINDS = [
    (k, label) for k, label in ProposalKind.choices if k not in (K.APPEAL, K.CONTRACT_RATIFICATION, K.DUA_RATIFICATION)
]


class ProposalForm(forms.Form):
    """Fields for one kind of proposal; the kind's rules decide which fields appear and their defaults."""

    title = forms.CharField(max_length=200)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Text of the proposal")
    method = forms.ChoiceField(choices=VotingMethod.choices)
    threshold = forms.ChoiceField(choices=[("", "—")] + Threshold.choices, required=False)
    quorum_pct = forms.DecimalField(
        min_value=0, max_value=100, decimal_places=2, label="Quorum (% of the electorate who must vote)"
    )
    duration_days = forms.IntegerField(min_value=1, max_value=30, label="Voting lasts (days)")
    secret = forms.BooleanField(required=False, label="Secret ballot")
    results_hidden = forms.BooleanField(required=False, initial=True, label="Hide results until the vote closes")
    value = forms.DecimalField(required=False, label="Proposed value (yes/no ballots)")
    score_min = forms.DecimalField(required=False, label="Lowest number allowed")
    score_max = forms.DecimalField(required=False, label="Highest number allowed")
    membership = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, label="Member")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    candidates = forms.ModelMultipleChoiceField(
        queryset=Membership.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    seats = forms.IntegerField(required=False, min_value=1, initial=1)
    outgoing = forms.ModelMultipleChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Stewards whose seats are up",
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        rule = KIND_RULES[kind]
        self.fields["method"].choices = [(m, VotingMethod(m).label) for m in rule.allowed_methods]
        self.fields["method"].initial = rule.method
        self.fields["threshold"].choices = [("", "—")] + [(t, Threshold(t).label) for t in rule.allowed_thresholds]
        self.fields["threshold"].initial = rule.threshold
        self.fields["quorum_pct"].initial = rule.quorum_pct
        self.fields["quorum_pct"].help_text = f"At least {rule.min_quorum_pct}%."
        self.fields["duration_days"].initial = rule.duration.days
        self.fields["secret"].initial = rule.secret
        active = Membership.objects.filter(status=Membership.Status.ACTIVE).order_by("display_name")
        keep = {"title", "body", "method", "threshold", "quorum_pct", "duration_days", "secret", "results_hidden"}
        if kind in POLICY_KINDS:
            keep |= {"value", "score_min", "score_max"}
        if kind == K.MEMBER_ADMISSION:
            keep.add("membership")
            self.fields["membership"].queryset = Membership.objects.filter(status=Membership.Status.APPLIED).order_by(
                "display_name"
            )
        if kind == K.SUSPENSION:
            keep |= {"membership", "reason", "evidence"}
            self.fields["membership"].queryset = active
            self.fields["title"].required = False
        if kind == K.STEWARD_ELECTION:
            keep |= {"candidates", "seats", "outgoing"}
            self.fields["candidates"].queryset = active
            self.fields["outgoing"].queryset = active.filter(is_steward=True)
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "kind": self.kind,
            "title": data.get("title") or "",
            "body": data.get("body", ""),
            "method": data["method"],
            "threshold": data.get("threshold") or None,
            "quorum_pct": data["quorum_pct"],
            "duration": timedelta(days=data["duration_days"]),
            "secret": data.get("secret", False),
            "results_hidden": data.get("results_hidden", False) or data.get("secret", False),
        }
        if data["method"] != VotingMethod.YES_NO:
            kwargs["threshold"] = None
        if self.kind in POLICY_KINDS:
            kwargs.update(score_min=data.get("score_min"), score_max=data.get("score_max"), payload={"value": data.get("value")})
        if self.kind in (K.MEMBER_ADMISSION, K.SUSPENSION):
            kwargs["membership"] = data.get("membership")
        if self.kind == K.SUSPENSION:
            kwargs["payload"] = {"reason": data.get("reason", ""), "evidence": data.get("evidence", "")}
        if self.kind == K.STEWARD_ELECTION:
            kwargs.update(
                candidates=list(data.get("candidates") or []),
                seats=data.get("seats") or 1,
                payload={"outgoing": [m.pk for m in data.get("outgoing") or []]},
            )
        return kwargs


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class AppealForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=4000,
        help_text="Why the decision should change. The members (or a drawn panel) will read it.",
    )


class PreferenceForm(forms.Form):
    daily_digest = forms.BooleanField(required=False, label="One daily digest instead of a notification per vote")


# --- Agreements -------------------------------------------------------------------------------------


class ContractForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=ClientOrganization.objects.filter(is_active=True).order_by("name"))
    title = forms.CharField(max_length=200)
    scope = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    task_types = forms.MultipleChoiceField(choices=TaskType.choices, widget=forms.CheckboxSelectMultiple)
    rate_card = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="One line per task type: ocr = 0.12 (USD per task)."
    )
    payment_terms = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    term_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    term_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    termination_notice_days = forms.IntegerField(min_value=0, max_value=365, initial=30)

    @classmethod
    def for_contract(cls, contract: Contract, data=None):
        initial = {
            field: getattr(contract, field)
            for field in ("title", "scope", "task_types", "payment_terms", "term_start", "term_end", "termination_notice_days")
        }
        initial["organization"] = contract.organization_id
        initial["rate_card"] = "\n".join(f"{k} = {v}" for k, v in contract.rate_card.items())
        form = cls(data, initial=initial)
        form.fields["organization"].disabled = True
        return form

    def clean_rate_card(self):
        card = {}
        for line in _lines(self.cleaned_data["rate_card"]):
            key, sep, value = line.partition("=")
            if not sep:
                raise forms.ValidationError("Write each line as: task_type = amount")
            card[key.strip()] = value.strip()
        return card

    def terms(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "organization"}


class DuaForm(forms.Form):
    permitted_purposes = forms.MultipleChoiceField(choices=list(PURPOSES.items()), widget=forms.CheckboxSelectMultiple)
    prohibited_uses = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line.")
    train_models = forms.BooleanField(required=False)
    publish_trained_models = forms.BooleanField(required=False)
    commercial_use_of_outputs = forms.BooleanField(required=False)
    redistribute_data = forms.BooleanField(required=False)
    create_derived_datasets = forms.BooleanField(required=False)
    retention_days = forms.IntegerField(
        min_value=0, max_value=3650, help_text="Days the client may keep the data after the contract ends."
    )
    attribution_required = forms.BooleanField(required=False, initial=True)
    attribution_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sensitive_content_categories = forms.CharField(required=False, help_text="Comma-separated, e.g. violence, medical.")
    welfare_provisions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    personal_data_class = forms.ChoiceField(choices=PersonalDataClass.choices)
    reidentification_banned = forms.BooleanField(required=False, initial=True)
    onward_transfer_allowed = forms.BooleanField(required=False)
    subcontractors = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line.")
    breach_reporting_hours = forms.IntegerField(min_value=1, max_value=720, initial=72)
    audit_rights = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    training_summary_required = forms.BooleanField(
        required=False, label="Public training-data summary required (EU AI Act Art. 53)"
    )
    training_summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    revenue_share_pct = forms.DecimalField(
        min_value=0, max_value=100, decimal_places=2, initial=0, label="Revenue share / data dividend (%)"
    )
    signatories = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line: name | role | YYYY-MM-DD"
    )

    @classmethod
    def for_dua(cls, dua: DataUseAgreement, data=None):
        initial = {name: getattr(dua, name) for name in cls.base_fields}
        for name in ("prohibited_uses", "subcontractors"):
            initial[name] = "\n".join(getattr(dua, name))
        initial["sensitive_content_categories"] = ", ".join(dua.sensitive_content_categories)
        initial["signatories"] = "\n".join(f"{s['name']} | {s['role']} | {s['date']}" for s in dua.signatories)
        return cls(data, initial=initial)

    def clean_signatories(self):
        rows = []
        for line in _lines(self.cleaned_data["signatories"]):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                raise forms.ValidationError("Write each signatory as: name | role | YYYY-MM-DD")
            rows.append({"name": parts[0], "role": parts[1], "date": parts[2]})
        return rows

    def terms(self) -> dict:
        data = dict(self.cleaned_data)
        data["prohibited_uses"] = _lines(data["prohibited_uses"])
        data["subcontractors"] = _lines(data["subcontractors"])
        data["sensitive_content_categories"] = [c.strip() for c in data["sensitive_content_categories"].split(",") if c.strip()]
        return data


class LogFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=64)
    object_type = forms.CharField(required=False, max_length=64)
    object_id = forms.CharField(required=False, max_length=64)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=100, label="Search")

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "action": data["action"],
            "object_type": data["object_type"],
            "object_id": data["object_id"],
            "since": data["since"],
            "until": data["until"],
            "search": data["q"],
        }


# --- Member initiative and deliberation ------------------------------------------------------------------


class MemberProposalForm(forms.Form):
    """A member's proposal: what it is about and its text; the kind's rules decide how it is voted on."""

    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), label="Text of the proposal", help_text="Markdown: **bold**, lists, links."
    )
    method = forms.ChoiceField(choices=VotingMethod.choices, required=False, label="How members vote")
    key = forms.ChoiceField(choices=(), required=False, label="Rule to change")
    value = forms.DecimalField(required=False, label="Proposed value (yes/no ballots)")
    membership = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, label="Member")
    contract = forms.ModelChoiceField(queryset=Contract.objects.none(), required=False, label="Contract")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Why the contract should end")
    candidates = forms.ModelMultipleChoiceField(
        queryset=Membership.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    seats = forms.IntegerField(required=False, min_value=1, initial=1)
    discussion_days = forms.IntegerField(
        min_value=0, max_value=14, initial=3, label="Discussion before voting opens (days)",
        help_text="Members can comment and propose amendments in this time.",
    )

    def __init__(self, *args, kind: str, **kwargs):
        from .rules import POLICIES

        super().__init__(*args, **kwargs)
        self.kind = kind
        rule = KIND_RULES[kind]
        keep = {"title", "body", "discussion_days"}
        active = Membership.objects.filter(status=Membership.Status.ACTIVE).order_by("display_name")
        if len(rule.allowed_methods) > 1:
            keep.add("method")
            self.fields["method"].choices = [(m, VotingMethod(m).label) for m in rule.allowed_methods]
            self.fields["method"].initial = rule.method
        if kind in POLICY_KINDS:
            keep.add("value")
        if kind == K.POLICY_CHANGE:
            keep |= {"key", "value"}
            self.fields["key"].choices = [(d.key, f"{d.label} ({d.unit})") for d in POLICIES.values()]
            self.fields["key"].required = self.fields["value"].required = True
        if kind == K.SUSPENSION_REVIEW:
            keep.add("membership")
            self.fields["membership"].queryset = Membership.objects.filter(status=Membership.Status.SUSPENDED).order_by("display_name")
        if kind == K.STEWARD_RECALL:
            keep.add("membership")
            self.fields["membership"].queryset = active.filter(is_steward=True)
            self.fields["membership"].label = "Steward"
        if kind == K.CONTRACT_TERMINATION:
            keep |= {"contract", "reason"}
            self.fields["contract"].queryset = Contract.objects.filter(status="active").select_related("organization")
        if kind == K.STEWARD_ELECTION:
            keep |= {"candidates", "seats"}
            self.fields["candidates"].queryset = active
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name in ("membership", "candidates"):
            if name in self.fields:
                self.fields[name].label_from_instance = lambda m: m.display_name

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "kind": self.kind,
            "title": data.get("title") or "",
            "body": data.get("body", ""),
            "discussion_days": data.get("discussion_days") or 0,
            "method": data.get("method") or None,
            "membership": data.get("membership"),
            "contract": data.get("contract"),
        }
        if self.kind in POLICY_KINDS:
            kwargs["payload"] = {"value": data.get("value")}
        if self.kind == K.POLICY_CHANGE:
            kwargs["payload"] = {"key": data.get("key"), "value": data.get("value")}
        if self.kind == K.CONTRACT_TERMINATION:
            kwargs["payload"] = {"reason": data.get("reason", "")}
        if self.kind == K.STEWARD_ELECTION:
            kwargs.update(candidates=list(data.get("candidates") or []), seats=data.get("seats") or 1)
        return kwargs


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Your comment")
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=2**62)


class AmendmentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=10_000, label="The motion, as amended")
    rationale = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, label="Why")


class OutcomeForm(forms.Form):
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000, label="Outcome statement")


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(queryset=Membership.objects.none(), label="Your proxy")
    category = forms.ChoiceField(required=False, label="For")

    def __init__(self, *args, me: Membership | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        others = Membership.objects.filter(status=Membership.Status.ACTIVE).order_by("display_name")
        if me is not None:
            others = others.exclude(pk=me.pk)
        self.fields["delegate"].queryset = others
        self.fields["delegate"].label_from_instance = lambda m: m.display_name
        self.fields["category"].choices = [("", "Every named ballot")] + list(ProposalKind.choices)


class InterimSuspensionForm(forms.Form):
    ground = forms.ChoiceField(label="Emergency")
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000)

    def __init__(self, *args, **kwargs):
        from .models import InterimSuspension

        super().__init__(*args, **kwargs)
        self.fields["ground"].choices = InterimSuspension.Ground.choices
