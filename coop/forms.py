"""Portal forms: input shape only; rules live in services."""

import zoneinfo

from django import forms

from .models import Membership

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class MembershipApplicationForm(forms.Form):
    display_name = forms.CharField(max_length=80, help_text="How other members see you.")
    country = forms.CharField(min_length=2, max_length=2, help_text="Two-letter code, e.g. KE, PH, VE.")
    timezone_name = forms.ChoiceField(label="Time zone", choices=TIMEZONE_CHOICES, initial="UTC")
    languages = forms.CharField(required=False, help_text="Comma-separated, e.g. en, sw, es.")
    skills = forms.CharField(required=False, help_text="Skills and domains, comma-separated, e.g. ocr, medical, code.")
    motivation = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class ProfileForm(MembershipApplicationForm):
    motivation = None

    @classmethod
    def for_membership(cls, membership: Membership):
        return cls(
            initial={
                "display_name": membership.display_name,
                "country": membership.country,
                "timezone_name": membership.timezone,
                "languages": ", ".join(membership.languages),
                "skills": ", ".join(membership.skills),
            }
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False)


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class ActivateForm(forms.Form):
    accept_agreement = forms.BooleanField(
        label="I accept the member agreement: one member, one vote; I share in the co-op's decisions and surplus.",
        required=True,
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=120)
    contact_name = forms.CharField(max_length=120, required=False)
    contact_email = forms.EmailField(required=False)
    contact_phone = forms.CharField(max_length=40, required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    billing_address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class OrganizationUserForm(forms.Form):
    email = forms.EmailField()
    is_org_admin = forms.BooleanField(required=False, label="Organization admin (manages users and tokens)")


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What this token is for, e.g. 'import pipeline'.")
    expires_at = forms.DateTimeField(
        required=False, help_text="Optional expiry (UTC).", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
