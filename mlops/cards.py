"""Model cards and datasheets, generated from provenance (reads only): what a model and its data are, and who made them.

`datasheet(snapshot)` describes a snapshot: intended use (the DUAs'
purposes and prohibited uses), the training data (sources by client and DUA
version, counts per split, the date range of acceptance, exclusions by
reason), the rater pool in aggregate (number of raters, countries, languages;
no cell under 5 is shown), the pay behind the labels (median and
10th-percentile measured hourly pay of the accepted answers that made them,
the share topped up to the pay floor), in the shape and by the rules of
marketplace.rater_pool that the project datasheet shares, the contributors (a pseudonym, or the
name of a member who opted in to credit) and a public summary of training
content in the structure of the EU AI Act Art. 53(1)(d) template.
`model_card(version)` adds the model, its metrics with confusion pairs and
its status. `card_markdown` renders either as Markdown.

`public_summary` raises SummaryUnavailable when provenance is incomplete;
a DUA with `training_summary_required` blocks training until it can be
generated (mlops.services.training).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter

from django.conf import settings
from django.db.models import Max, Min

from coop.errors import ApplicationError
from marketplace.models import AcceptedLabel, Answer
from marketplace.rater_pool import SMALL_CELL, SMALL_CELLS_NOTE, pay_summary, rater_pool

from .models import DatasetContributor, DatasetSnapshot, ModelVersion, SnapshotSource
from .selectors import exclusion_summary


class SummaryUnavailable(ApplicationError):
    default_code = "training_summary_unavailable"


def contributor_label(user) -> str:
    """How a contributor appears on a card: their display name if they opted in to credit, else a stable pseudonym."""
    credit = getattr(user, "model_credit", None)
    if credit is not None and credit.credit_by_name:
        return user.display_name
    digest = hmac.new(settings.PSEUDONYM_KEY.encode(), f"card:{user.pk}".encode(), hashlib.sha256).hexdigest()
    return f"w_{digest[:12]}"


def _pay(snapshot: DatasetSnapshot) -> dict:
    """The pay behind the included labels: that of the answers each label was made from, each answer once.

    Amounts in different currencies are never mixed: the summary is of the currency most of the labels were paid in.
    """
    by_currency = Counter()
    for currency, labels in SnapshotSource.objects.filter(snapshot=snapshot).values_list("project__currency", "item_count"):
        by_currency[currency] += labels
    currency = max(sorted(by_currency), key=by_currency.__getitem__, default="USD")
    label_answers = AcceptedLabel.answers.through.objects.filter(acceptedlabel_id__in=snapshot.items.values("label_id"))
    answers = Answer.objects.filter(pk__in=label_answers.values("answer_id"), task__project__currency=currency)
    return pay_summary(answers, currency=currency)


def _raters(snapshot: DatasetSnapshot) -> tuple[dict, list[dict]]:
    contributors = list(DatasetContributor.objects.filter(snapshot=snapshot).select_related("worker__membership", "worker__model_credit")
                        .order_by("pk"))
    profiles = []
    for c in contributors:
        membership = getattr(c.worker, "membership", None)
        profiles.append((membership.country, membership.languages) if membership else (None, None))
    credits = [{"contributor": contributor_label(c.worker), "labels": c.label_count} for c in contributors]
    return rater_pool(profiles), credits


def _sources(snapshot: DatasetSnapshot) -> list[dict]:
    rows = SnapshotSource.objects.filter(snapshot=snapshot).select_related("organization", "project", "dua").order_by("pk")
    return [{"client": s.organization.name, "project": s.project.title, "project_id": s.project_id, "dua": s.dua_id,
             "dua_version": s.dua.version, "labels": s.item_count, "revenue_share_pct": str(s.revenue_share_pct),
             "publish_trained_models": s.publish_trained_models} for s in rows]


def _intended_use(snapshot: DatasetSnapshot) -> dict:
    purposes, prohibited = [], []
    for source in SnapshotSource.objects.filter(snapshot=snapshot).select_related("dua").order_by("pk"):
        for purpose in source.dua.permitted_purposes or []:
            if purpose not in purposes:
                purposes.append(purpose)
        for use in source.dua.prohibited_uses or []:
            if use not in prohibited:
                prohibited.append(use)
    return {"permitted_purposes": purposes, "prohibited_uses": prohibited}


def public_summary(snapshot: DatasetSnapshot, *, sources: list[dict] | None = None, model: ModelVersion | None = None) -> dict:
    """A public summary of training content in the structure of the EU AI Act Art. 53(1)(d) template, from provenance."""
    sources = sources if sources is not None else _sources(snapshot)
    if sum(s["labels"] for s in sources) != snapshot.item_count:
        raise SummaryUnavailable("The snapshot's sources do not account for every label; the summary cannot be generated.")
    if snapshot.items.filter(workers=[]).exists():
        raise SummaryUnavailable("Some labels have no recorded annotators; the summary cannot be generated.")
    dates = snapshot.items.aggregate(first=Min("label__accepted_at"), last=Max("label__accepted_at"))
    return {
        "template": "EU AI Act Art. 53(1)(d): public summary of training content (structure of the Commission's template)",
        "1_general_information": {
            "provider": settings.COOP_NAME if hasattr(settings, "COOP_NAME") else "the co-operative",
            "model": str(model) if model else None,
            "modalities": ["image (input)", "text (output: short transcriptions)"],
            "training_data_size": {"labelled_images": snapshot.item_count, "train": snapshot.train_count,
                                   "validation": snapshot.val_count, "test": snapshot.test_count},
            "collection_period": {"from": dates["first"].date().isoformat() if dates["first"] else None,
                                  "to": dates["last"].date().isoformat() if dates["last"] else None},
        },
        "2_list_of_data_sources": {
            "2_1_publicly_available_datasets": [],
            "2_2_private_datasets_from_third_parties": [
                {"rights_holder": s["client"], "dataset": s["project"], "licence": f"data-use agreement #{s['dua']} v{s['dua_version']}",
                 "items": s["labels"]} for s in sources
            ],
            "2_3_crawled_and_scraped_data": [],
            "2_4_user_data": [],
            "2_5_synthetic_data": [],
            "2_6_other": [{"description": "Transcriptions by the co-operative's member annotators (human labels, consensus of "
                                          "agreeing answers)", "items": snapshot.item_count}],
        },
        "3_data_processing": {
            "3_1_reservation_of_rights": "Only data whose data-use agreement grants training (train_models) and whose owner has not "
                                         "attested deletion is used; each label's agreement is recorded.",
            "3_2_removal_of_illegal_content": "Clients warrant their data under the contract; labels outside the charset or length "
                                              "limits are excluded.",
            "3_3_exclusions": exclusion_summary(snapshot),
        },
    }


def datasheet(snapshot: DatasetSnapshot) -> dict:
    """The datasheet of a snapshot (see the module docstring)."""
    sources = _sources(snapshot)
    pool, credits = _raters(snapshot)
    dates = snapshot.items.aggregate(first=Min("label__accepted_at"), last=Max("label__accepted_at"))
    try:
        summary = public_summary(snapshot, sources=sources)
    except SummaryUnavailable as error:
        summary = {"unavailable": error.message}
    return {
        "kind": "datasheet",
        "snapshot": {"id": snapshot.pk, "name": snapshot.name, "created_at": snapshot.created_at.isoformat(), "charset": snapshot.charset,
                     "max_len": snapshot.max_len, "seed": snapshot.seed},
        "intended_use": _intended_use(snapshot),
        "training_data": {
            "sources": sources,
            "counts": {"included": snapshot.item_count, "train": snapshot.train_count, "validation": snapshot.val_count,
                       "test": snapshot.test_count, "excluded": snapshot.excluded_count},
            "accepted_between": [d.isoformat() if d else None for d in (dates["first"], dates["last"])],
            "exclusions": exclusion_summary(snapshot),
        },
        "rater_pool": pool,
        "small_cells": SMALL_CELLS_NOTE,
        "pay": _pay(snapshot),
        "contributors": credits,
        "public_summary": summary,
    }


def model_card(version: ModelVersion) -> dict:
    """The model card of a version: the datasheet of its snapshot plus the model, its metrics and its status."""
    sheet = datasheet(version.snapshot)
    metrics = version.metrics or {}
    try:
        sheet["public_summary"] = public_summary(version.snapshot, sources=sheet["training_data"]["sources"], model=version)
    except SummaryUnavailable as error:
        sheet["public_summary"] = {"unavailable": error.message}
    return {
        **sheet,
        "kind": "model_card",
        "model": {"id": version.pk, "name": version.name, "version": version.version, "backbone": version.backbone,
                  "charset": version.charset, "max_len": version.max_len, "created_at": version.created_at.isoformat(),
                  "promoted": version.promoted, "retired": version.retired_at is not None, "retired_reason": version.retired_reason,
                  "training_run": version.training_run_id},
        "metrics": {
            "test_seq_acc": metrics.get("test_seq_acc"), "test_char_acc": metrics.get("test_char_acc"), "test_n": metrics.get("test_n"),
            "val_seq_acc": metrics.get("val_seq_acc"), "val_char_acc": metrics.get("val_char_acc"), "val_n": metrics.get("val_n"),
            "train_n": metrics.get("train_n"), "epochs_run": metrics.get("epochs_run"), "best_epoch": metrics.get("best_epoch"),
            "baseline": metrics.get("baseline"),
            "confusion_pairs": metrics.get("test_confusion_pairs") or metrics.get("val_confusion_pairs") or [],
        },
    }


def _md_table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "_none_\n"
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _md_cells(cells: dict) -> str:
    """A suppressed count (marketplace.rater_pool.suppressed) as a table and a line for the cells not shown."""
    table = _md_table([{"value": key, "raters": n} for key, n in cells["counts"].items()], ["value", "raters"]) \
        if cells["counts"] or not cells["cells_suppressed"] else ""
    if cells["cells_suppressed"]:
        plural = "s" if cells["cells_suppressed"] != 1 else ""
        table += (f"{cells['fewer_than_5']} more in {cells['cells_suppressed']} group{plural} of fewer than {SMALL_CELL} "
                  "(not shown).\n")
    return table


def card_markdown(card: dict) -> str:
    """A model card or datasheet as Markdown (the download)."""
    out = []
    if card["kind"] == "model_card":
        m = card["model"]
        out.append(f"# Model card: {m['name']} v{m['version']}\n")
        status = "retired: " + m["retired_reason"] if m["retired"] else ("promoted" if m["promoted"] else "available")
        out.append(f"Backbone `{m['backbone']}`, charset `{m['charset']}`, up to {m['max_len']} characters; {status}.\n")
        met = card["metrics"]
        out.append("## Metrics\n")
        out.append(_md_table([{"split": "test", "n": met["test_n"], "sequence accuracy": met["test_seq_acc"], "character accuracy": met["test_char_acc"]},
                              {"split": "validation", "n": met["val_n"], "sequence accuracy": met["val_seq_acc"], "character accuracy": met["val_char_acc"]}],
                             ["split", "n", "sequence accuracy", "character accuracy"]))
        pairs = [{"true": p[0], "predicted": p[1], "count": p[2]} if isinstance(p, (list, tuple)) else p for p in met["confusion_pairs"]]
        out.append("### Most frequent confusions\n")
        out.append(_md_table(pairs, ["true", "predicted", "count"]))
    else:
        out.append(f"# Datasheet: snapshot {card['snapshot']['id']} ({card['snapshot']['name']})\n")
    use = card["intended_use"]
    out.append("## Intended use\n")
    out.append("Permitted purposes (from the data-use agreements): " + (", ".join(use["permitted_purposes"]) or "none") + ".\n")
    out.append("Prohibited uses: " + ("; ".join(use["prohibited_uses"]) or "none stated") + ".\n")
    data = card["training_data"]
    out.append("## Training data\n")
    out.append(_md_table(data["sources"], ["client", "project", "dua_version", "labels"]))
    counts = data["counts"]
    out.append(f"Included {counts['included']} labels ({counts['train']} train, {counts['validation']} validation, {counts['test']} test); "
               f"excluded {counts['excluded']}. Accepted between {data['accepted_between'][0]} and {data['accepted_between'][1]}.\n")
    out.append("### Exclusions by reason\n")
    out.append(_md_table(data["exclusions"], ["label", "count"]))
    pool = card["rater_pool"]
    out.append("## Rater pool (aggregate; cells under 5 suppressed)\n")
    out.append(f"Raters: {pool['raters']}.\n")
    out.append("### Countries\n")
    out.append(_md_cells(pool["countries"]))
    out.append("### Languages\n")
    out.append(_md_cells(pool["languages"]))
    pay = card["pay"]
    out.append("## Pay behind the labels\n")
    out.append(f"Median hourly pay {pay['median_hourly']} {pay['currency']}, 10th percentile {pay['p10_hourly']} {pay['currency']} "
               f"(measured working time of {pay['answers_measured']} of {pay['answers_paid']} paid answers); "
               f"share topped up to the floor {pay['share_topped_up']}.\n")
    out.append("## Contributors\n")
    out.append(_md_table(card["contributors"], ["contributor", "labels"]))
    out.append("## Public summary of training content (EU AI Act Art. 53(1)(d) structure)\n")
    out.append("```json\n" + json.dumps(card["public_summary"], indent=2, default=str) + "\n```\n")
    return "\n".join(out)
