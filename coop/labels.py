"""Human words for the codes the platform stores: what pages show instead of `sexual_content` or `model_training`.

Exports and the API keep the codes (they are stable identifiers); pages use these labels.
"""

SENSITIVE_CONTENT: dict[str, str] = {
    "violence": "Violence",
    "sexual_content": "Sexual content",
    "hate_speech": "Hate speech",
    "self_harm": "Self-harm",
    "medical": "Medical content",
    "personal_data": "Personal data",
    "disturbing_imagery": "Disturbing imagery",
}

PURPOSES: dict[str, str] = {
    "model_training": "Training machine-learning models",
    "evaluation": "Evaluating models or systems",
    "research": "Non-commercial research",
    "commercial_product": "Use in a commercial product",
}

LABELS: dict[str, str] = {**SENSITIVE_CONTENT, **PURPOSES}


def human(code: str) -> str:
    """The label of a known code; an unknown one with underscores turned into spaces, capitalised."""
    code = str(code)
    return LABELS.get(code) or code.replace("_", " ").capitalize()
