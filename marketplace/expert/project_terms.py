"""The expert terms of a client's project: which qualifications and languages it requires, and the gold accuracy it keeps.

Called by services/projects.py when a project is created or edited (bad input: a clear error, nothing written).
"""

from __future__ import annotations

import re

from coop.validation import decimal_or_none

from .models import Qualification

FIELDS = ("required_qualifications", "required_languages", "min_gold_accuracy", "min_gold_answers")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
MAX_REQUIRED = 10


def clean_terms(clean: dict, errors: dict[str, list[str]]) -> dict:
    """Validate the expert fields in `clean` in place (adding to `errors`); qualifications become model instances."""
    if "required_qualifications" in clean:
        refs = clean["required_qualifications"] or []
        if not isinstance(refs, (list, tuple)) or len(refs) > MAX_REQUIRED:
            errors["required_qualifications"] = [f"A list of at most {MAX_REQUIRED} qualification slugs or ids."]
        else:
            found, unknown = [], []
            for ref in dict.fromkeys(refs):
                if isinstance(ref, Qualification):
                    found.append(ref)
                    continue
                query = {"pk": ref} if isinstance(ref, int) and not isinstance(ref, bool) else {"slug": str(ref)}
                qualification = Qualification.objects.filter(is_active=True, **query).first()
                (found if qualification else unknown).append(qualification or ref)
            if unknown:
                errors["required_qualifications"] = [
                    f"No such qualification: {', '.join(map(str, unknown))}. Required qualifications must exist and have a test."
                ]
            clean["required_qualifications"] = found
    if "required_languages" in clean:
        codes = clean["required_languages"] or []
        if not isinstance(codes, (list, tuple)) or len(codes) > MAX_REQUIRED or not all(isinstance(c, str) for c in codes):
            errors["required_languages"] = [f"A list of at most {MAX_REQUIRED} language codes such as 'de' or 'pt-br'."]
        else:
            codes = [c.strip().lower() for c in codes]
            bad = [c for c in codes if not LANGUAGE.match(c)]
            if bad:
                errors["required_languages"] = [f"Not a language code: {', '.join(bad)} (use ISO 639 codes such as 'de')."]
            clean["required_languages"] = list(dict.fromkeys(codes))
    if clean.get("min_gold_accuracy") not in (None, ""):
        value = decimal_or_none(clean["min_gold_accuracy"])
        if value is None or not (0 < value <= 1) or value.as_tuple().exponent < -3:
            errors["min_gold_accuracy"] = ["A share above 0 and at most 1 (0.8 = 80 %), at most 3 decimals."]
        else:
            clean["min_gold_accuracy"] = value
    elif "min_gold_accuracy" in clean:
        clean["min_gold_accuracy"] = None
    if "min_gold_answers" in clean:
        value = clean["min_gold_answers"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
            errors["min_gold_answers"] = ["A whole number of gold answers from 1 to 1000."]
    return clean


def pop_qualifications(clean: dict):
    """Take the qualifications out of the model fields (a many-to-many is set after saving); None if not given."""
    return clean.pop("required_qualifications", None)
