"""Portal pages of the marketplace: task feed, labeling screen, my submissions, review queue."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError
from coop.models import ClientOrganization
from coop.views import member_required, steward_required

from . import selectors
from .api_params import records_parameters
from .models import Answer, ClientRating, Project, ProjectFlag, ReviewDecision
from .rendering import render_instructions
from .services import review, voice, wellbeing
from .services.eligibility import project_refusal
from .services.projects import SENSITIVE_CATEGORIES
from .task_feed import feed_projects


@member_required
def feed(request):
    rows = feed_projects(worker=request.user)
    template = "marketplace/partials/feed_rows.html" if request.htmx else "marketplace/feed.html"
    return render(request, template, {"rows": rows})


@member_required
def project_detail(request, pk: int):
    project = get_object_or_404(Project.objects.select_related("organization", "dua"), pk=pk, status=Project.Status.PUBLISHED)
    return render(
        request,
        "marketplace/project_detail.html",
        {
            "project": project,
            "instructions_html": render_instructions(project.instructions),
            "categories": SENSITIVE_CATEGORIES,
            "worked_here": project.assignments.filter(worker=request.user).exists(),
            "flag_reasons": ProjectFlag.Reason.choices,
            "pay_raises": project.pay_raises.all()[:5],
        },
    )


@member_required
def transparency(request):
    """Pay statistics per project and client from measured time, with a server-rendered chart."""
    from .pay import current_pay_floor
    from .transparency import bar_chart, pay_statistics

    stats = pay_statistics()
    floor = current_pay_floor()
    return render(request, "marketplace/transparency.html", {**stats, "floor": floor, "chart": bar_chart(stats["projects"], floor=floor)})


@member_required
def preferences(request):
    if request.method == "POST":
        try:
            wellbeing.preference_set(worker=request.user, sensitive_opt_in=request.POST.getlist("sensitive_opt_in"))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Preferences saved.")
            return redirect("marketplace:preferences")
    return render(
        request,
        "marketplace/preferences.html",
        {
            "categories": SENSITIVE_CATEGORIES,
            "opted_in": wellbeing.opted_in(request.user),
            "cap_minutes": settings.SENSITIVE_DAILY_CAP_MINUTES,
            "used_minutes": wellbeing.sensitive_seconds_today(request.user) // 60,
        },
    )


@member_required
def label(request, pk: int):
    # Only a live project's instructions and data are shown: never a draft, a paused or a cancelled one.
    project = get_object_or_404(Project, pk=pk, status=Project.Status.PUBLISHED)
    refusal = project_refusal(project, request.user)
    if refusal:
        from .expert.eligibility import REFUSAL_MESSAGES as EXPERT_REFUSALS

        messages.warning(request, wellbeing.REFUSAL_MESSAGES.get(refusal) or EXPERT_REFUSALS.get(refusal, "This project is not open to you."))
        return redirect("marketplace:feed")
    if project.sensitive_categories and request.GET.get("confirmed") != "1":
        return redirect("marketplace:project", pk=pk)
    return render(
        request,
        "marketplace/label.html",
        {"project": project, "instructions_html": render_instructions(project.instructions)},
    )


@member_required
def records(request):
    """My work records, filterable by date, with CSV and JSON downloads of the same rows."""
    from itertools import islice

    from coop.exports import streamed

    try:
        fmt, date_from, date_to = records_parameters(request.GET)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("marketplace:records")
    if request.GET.get("download") == "bonuses":
        from .expert.selectors import BONUS_FIELDS, bonus_records

        rows = bonus_records(member=request.user, date_from=date_from, date_to=date_to)
        return streamed(fmt, rows, fields=BONUS_FIELDS, filename="my-bonuses")
    rows = selectors.work_records(worker=request.user, date_from=date_from, date_to=date_to)
    if request.GET.get("download"):
        return streamed(fmt, rows, fields=selectors.RECORD_FIELDS, filename="my-work-records")
    return render(
        request,
        "marketplace/records.html",
        {"rows": list(islice(rows, 200)), "date_from": date_from, "date_to": date_to, "query": request.GET.urlencode()},
    )


@member_required
def client_rate(request, organization_id: int):
    organization = get_object_or_404(ClientOrganization, pk=organization_id)
    existing = ClientRating.objects.filter(organization=organization, member=request.user).first()
    if request.method == "POST":
        try:
            scores = {field: int(request.POST.get(field, "0")) for field in ClientRating.SCORES}
        except ValueError:
            scores = {field: 0 for field in ClientRating.SCORES}
        try:
            voice.client_rate(member=request.user, organization=organization, comment=request.POST.get("comment", ""), **scores)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Thank you: your rating of {organization.name} is saved and shown to members.")
            return redirect("marketplace:feed")
    return render(
        request,
        "marketplace/client_rate.html",
        {"organization": organization, "existing": existing, "scores": ClientRating.SCORES, "range": range(1, 6)},
    )


@member_required
@require_POST
def project_flag(request, pk: int):
    project = get_object_or_404(Project, pk=pk)
    try:
        voice.project_flag(member=request.user, project=project, reason=request.POST.get("reason", ""), comment=request.POST.get("comment", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Flag recorded. When enough members flag a project it is paused for review.")
    return redirect("marketplace:project", pk=pk)


@member_required
def submissions(request):
    page = Paginator(selectors.submissions_of(worker=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "marketplace/submissions.html", {"page": page})


@member_required
@require_POST
def appeal(request, pk: int):
    answer = get_object_or_404(Answer, pk=pk, worker=request.user)
    try:
        review.answer_appeal_file(worker=request.user, answer=answer, reason=request.POST.get("reason", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Appeal filed. You will be notified of the decision.")
    return redirect("marketplace:submissions")


@steward_required
def review_queue(request):
    return render(
        request,
        "marketplace/review.html",
        {**selectors.review_queue(), "reasons": ReviewDecision.Reason.choices},
    )


@steward_required
def review_task_image(request, pk: int):
    """A task's image for the reviewer judging it (stewards only)."""
    from django.http import FileResponse, Http404

    from .models import Task

    task = get_object_or_404(Task, pk=pk)
    if not task.image:
        raise Http404
    return FileResponse(task.image.open("rb"))


@steward_required
@require_POST
def review_action(request, pk: int, action: str):
    answer = get_object_or_404(Answer.objects.select_related("task"), pk=pk)
    try:
        if action == "choose":
            review.task_review_accept(reviewer=request.user, task=answer.task, answer=answer)
        elif action == "accept":
            review.answer_review(reviewer=request.user, answer=answer, accept=True)
        elif action == "reject":
            review.answer_review(
                reviewer=request.user,
                answer=answer,
                accept=False,
                reason=request.POST.get("reason", ""),
                feedback=request.POST.get("feedback", ""),
            )
        else:
            messages.error(request, "Unknown action.")
            return redirect("marketplace:review")
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Saved.")
    return redirect("marketplace:review")


