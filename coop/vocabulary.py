"""Words every app shares, defined once: the kinds of labeling work (contracts cover them, projects post them)."""

from django.db import models


class TaskType(models.TextChoices):
    OCR = "ocr", "OCR transcription"
    CLASSIFICATION = "classification", "Classification"
    PAIRWISE = "pairwise", "Pairwise preference"
    RANKING = "ranking", "Ranking of responses"
    RUBRIC = "rubric", "Rubric rating"
    MULTILABEL = "multilabel", "Multi-label classification"
    REWRITE = "rewrite", "Rewrite (a better response)"
