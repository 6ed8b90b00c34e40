"""Portal pages of expert work: qualifications and tests, my accuracy (with appeal), my signed export."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError
from coop.views import member_required, role_required

from ..agreement import member_agreement
from ..models import Project
from ..rendering import render_instructions
from . import accuracy, qualifications, selectors
from .models import Qualification, QualificationAttempt


@member_required
def qualification_list(request):
    return render(
        request,
        "marketplace/qualifications/list.html",
        {"rows": selectors.qualifications_of(member=request.user), "rate_card": selectors.rate_card()},
    )


@member_required
def qualification_detail(request, slug: str):
    qualification = get_object_or_404(Qualification, slug=slug, is_active=True)
    row = next((r for r in selectors.qualifications_of(member=request.user) if r["qualification"].pk == qualification.pk), None)
    return render(
        request,
        "marketplace/qualifications/detail.html",
        {
            "q": qualification, "row": row, "pay": qualifications.attempt_pay(qualification),
            "description_html": render_instructions(qualification.description or ""),
            "projects": qualification.projects.filter(status=Project.Status.PUBLISHED),
            "items": qualification.items.count(),
        },
    )


@member_required
@require_POST
def attempt_start(request, slug: str):
    qualification = get_object_or_404(Qualification, slug=slug, is_active=True)
    try:
        attempt = qualifications.attempt_start(member=request.user, qualification=qualification)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("marketplace:qualification", slug=slug)
    return redirect("marketplace:qualification_attempt", pk=attempt.pk)


def _answers_from_post(attempt: QualificationAttempt, post) -> dict:
    answers = {}
    for item in attempt.qualification.items.all():
        if item.task_type == "ocr":
            value = post.get(f"item-{item.pk}", "")
            answers[str(item.pk)] = {"text": value} if value.strip() else None
        elif item.task_type == "classification":
            value = post.get(f"item-{item.pk}")
            answers[str(item.pk)] = {"choice": value} if value else None
        else:
            value = post.get(f"item-{item.pk}")
            answers[str(item.pk)] = {"preferred": value, "reason": post.get(f"reason-{item.pk}", "")} if value else None
    return {key: value for key, value in answers.items() if value is not None}


@member_required
def attempt_page(request, pk: int):
    attempt = get_object_or_404(QualificationAttempt.objects.select_related("qualification"), pk=pk, member=request.user)
    errors = {}
    if request.method == "POST" and attempt.status == QualificationAttempt.Status.OPEN:
        try:
            attempt = qualifications.attempt_submit(member=request.user, attempt_id=attempt.pk, answers=_answers_from_post(attempt, request.POST))
        except ApplicationError as error:
            messages.error(request, error.message)
            errors = error.fields
        else:
            return redirect("marketplace:qualification_attempt", pk=attempt.pk)
    answers = {a.item_id: a for a in attempt.answers.all()}
    items = [
        {"item": item, "answer": answers.get(item.pk), "error": errors.get(f"answers.{item.pk}", [""])[0]}
        for item in attempt.qualification.items.all()
    ]
    return render(request, "marketplace/qualifications/attempt.html", {"attempt": attempt, "q": attempt.qualification, "items": items})


@member_required
def attempt_item_image(request, pk: int, item_id: int):
    attempt = get_object_or_404(QualificationAttempt, pk=pk, member=request.user)
    item = attempt.qualification.items.filter(pk=item_id).first()
    if item is None or not item.image:
        raise Http404
    return FileResponse(item.image.open("rb"))


@member_required
def export(request):
    document = qualifications.qualification_export(member=request.user)
    response = HttpResponse(json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="my-qualifications.json"'
    return response


@member_required
def my_accuracy(request):
    return render(
        request,
        "marketplace/qualifications/accuracy.html",
        {
            "rows": selectors.accuracy_of(member=request.user),
            "holds": selectors.holds_of(member=request.user),
            "agreement": member_agreement(worker=request.user),
        },
    )


@member_required
@require_POST
def accuracy_appeal(request, project_id: int):
    project = get_object_or_404(Project.objects.exclude(status=Project.Status.DRAFT), pk=project_id)
    try:
        accuracy.accuracy_hold_appeal(worker=request.user, project=project, reason=request.POST.get("reason", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Appeal filed: the members decide. You will be notified.")
    return redirect("marketplace:accuracy")


# --- Project questions and amended instructions ------------------------------------------------------


@member_required
def project_questions(request, pk: int):
    from .models import ProjectQuestion
    from .questions import instructions_history, question_ask

    project = get_object_or_404(Project, pk=pk, status__in=(Project.Status.PUBLISHED, Project.Status.PAUSED))
    if request.method == "POST":
        try:
            question_ask(member=request.user, project=project, body=request.POST.get("body", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Question sent to the client; the answer will show here for every member.")
            return redirect("marketplace:project_questions", pk=pk)
    return render(
        request,
        "marketplace/qualifications/questions.html",
        {"project": project, "questions": ProjectQuestion.objects.filter(project=project).order_by("asked_at", "id"),
         "history": instructions_history(project)},
    )


def _console_project(request, pk):
    from .. import selectors as marketplace_selectors

    project = marketplace_selectors.project_for_client(organization=request.user.organization, project_id=pk)
    if project is None:
        raise Http404("No such project.")
    return project


@role_required("client")
def console_questions(request, pk: int):
    from .questions import instructions_amend, instructions_history, question_answer, questions_for_client

    project = _console_project(request, pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "amend":
                instructions_amend(organization=request.user.organization, project=project,
                                   instructions=request.POST.get("instructions", ""), note=request.POST.get("note", ""))
                messages.success(request, "Instructions amended; members who worked on it are told what changed.")
            else:
                question = request.POST.get("question", "")
                question_answer(organization=request.user.organization, question_id=int(question) if question.isdigit() else 0,
                                answer=request.POST.get("answer", ""), user=request.user)
                messages.success(request, "Answer published to every member working on the project.")
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            return redirect("marketplace:console_questions", pk=pk)
        project.refresh_from_db()
    return render(request, "marketplace/qualifications/console_questions.html",
                  {"project": project, "questions": questions_for_client(project), "history": instructions_history(project), "section": "projects"})


# --- Payout destination -----------------------------------------------------------------------------


@member_required
def payout_destination(request):
    from ..ledger.payout_destinations import FIELDS, current_destination, payout_destination_set

    if request.method == "POST":
        method = request.POST.get("method", "")
        details = {name: request.POST.get(name, "") for name in FIELDS.get(method, ())}
        try:
            payout_destination_set(member=request.user, method=method, details=details)
        except ApplicationError as error:
            messages.error(request, error.message + " " + "; ".join(f"{k}: {v[0]}" for k, v in error.fields.items()))
        else:
            messages.success(request, "Saved. We e-mailed you about the change; payouts are held for 24 hours.")
            return redirect("marketplace:payout_destination")
    return render(request, "marketplace/qualifications/payout_destination.html",
                  {"current": current_destination(request.user), "fields": FIELDS})


# --- Members' proposals: a qualification by vote, a rate card ---------------------------------------


@member_required
@require_POST
def nominate(request, slug: str):
    from coop.models import Membership

    qualification = get_object_or_404(Qualification, slug=slug, is_active=True)
    number = request.POST.get("member_number", "")
    membership = Membership.objects.filter(member_number=int(number)).select_related("user").first() if number.isdigit() else None
    if membership is None:
        messages.error(request, "No member with that number.")
        return redirect("marketplace:qualification", slug=slug)
    try:
        proposal = qualifications.qualification_nominate(
            nominator=request.user, candidate=membership.user, qualification=qualification,
            evidence=request.POST.get("evidence", ""), by_panel=request.POST.get("by_panel") == "1",
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("marketplace:qualification", slug=slug)
    messages.success(request, "Nomination put to a vote.")
    return redirect("governance:proposal_detail", pk=proposal.pk)


@member_required
@require_POST
def rate_card_propose(request):
    from .rate_cards import rate_card_propose as propose

    slug = request.POST.get("qualification", "")
    qualification = Qualification.objects.filter(slug=slug, is_active=True).first() if slug else None
    try:
        proposal = propose(author=request.user, qualification=qualification, tier=request.POST.get("tier", ""),
                           hourly_minimum=request.POST.get("hourly_minimum", ""), reason=request.POST.get("reason", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("marketplace:qualifications")
    messages.success(request, f"Proposal drafted: it goes to a vote once {proposal.sponsors_required} members co-sponsor it.")
    return redirect("governance:proposal_detail", pk=proposal.pk)


# --- Client console: the qualifications a client sponsors ------------------------------------------


@role_required("client")
def console_qualifications(request):
    """Define a qualification with its test: the fields of the API, the items as JSON (a list, as POST /api/v1/qualifications/ takes)."""
    form = {"name": "", "pass_mark": "80", "test_pay": "", "test_estimated_seconds": "300", "retry_delay_hours": "24", "valid_days": "", "items": "", "description": ""}
    errors: dict = {}
    if request.method == "POST":
        form.update({key: request.POST.get(key, "") for key in form})
        try:
            items = json.loads(form["items"] or "[]")
        except ValueError:
            items, errors = None, {"items": ["Not valid JSON: a list of items."]}
        if items is not None:
            def whole(value, field, *, optional=False):
                if optional and value.strip() == "":
                    return None
                if not value.strip().isdigit():
                    errors[field] = ["A whole number."]
                    return 0
                return int(value)

            numbers = {"test_estimated_seconds": whole(form["test_estimated_seconds"], "test_estimated_seconds"),
                       "retry_delay_hours": whole(form["retry_delay_hours"], "retry_delay_hours"),
                       "valid_days": whole(form["valid_days"], "valid_days", optional=True)}
            if not errors:
                try:
                    qualification = qualifications.qualification_create(
                        actor=request.user, sponsor=request.user.organization, name=form["name"], description=form["description"],
                        items=items, pass_mark=form["pass_mark"] or "0", test_pay=form["test_pay"] or "0", **numbers,
                    )
                except ApplicationError as error:
                    errors = error.fields or {"general": [error.message]}
                    messages.error(request, error.message)
                else:
                    messages.success(request, f"“{qualification.name}” is open to members; its tests are paid from your balance.")
                    return redirect("marketplace:console_qualifications")
    mine = Qualification.objects.filter(sponsor=request.user.organization).order_by("name")
    return render(request, "marketplace/qualifications/console_qualifications.html",
                  {"form": form, "errors": errors, "mine": mine, "section": "qualifications",
                   "item_errors": [m for key, found in errors.items() if key.startswith("items") for m in found]})
