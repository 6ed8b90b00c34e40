"""The hot path (next + submit): query budgets that do not grow with the project, and prefetching.

Budgets count the statements a service sends, leaving out transaction control (BEGIN, COMMIT, SAVEPOINT,
RELEASE): a claim ≤ 4, a plain submit ≤ 5, a submit that reaches consensus and pays ≤ 12, on PostgreSQL
(SQLite takes the ORM path; its counts are checked only for not growing with the project). Each budget is
measured on a small and a ten-times-larger project, so a query per row cannot hide in either.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from coop import services as coop_services
from marketplace.ledger.models import LedgerTransaction
from marketplace.models import Answer, Assignment, Task
from marketplace.services import claiming, submission
from tests import factories
from tests.concurrency import run_threads
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(CONTROL)]


def fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def one_round(project, first, second) -> dict[str, int]:
    """`first` claims and submits (plain), then `second` claims the same task and submits (consensus + pay)."""
    counts = {}
    for who, worker in (("plain", first), ("consensus", second)):
        with CaptureQueriesContext(connection) as claim:
            lease = claiming.work_next(worker=worker, project=project).assignment
        assert lease is not None
        with CaptureQueriesContext(connection) as submit:
            answer, created = submission.assignment_submit(
                worker=worker, assignment_id=lease.pk, payload={"text": "ab12"}, idempotency_key=f"k{lease.pk}"
            )
        assert created
        counts[f"claim ({who})"] = len(statements(claim))
        counts[f"submit ({who})"] = len(statements(submit))
    assert answer.status == Answer.Status.ACCEPTED  # the second answer agreed: accepted and paid
    assert LedgerTransaction.objects.filter(answer=answer, kind="earning").count() == 1
    return counts


def budgets(tasks: int) -> dict[str, int]:
    project = factories.make_project(tasks=tasks, overlap=2, max_overlap=2)
    first, second = factories.make_member(), factories.make_member()
    one_round(project, first, second)  # first contact: the members' counters and ledger accounts are created
    return one_round(project, first, second)


def test_queries_per_operation_do_not_grow_with_the_project():
    small, large = budgets(3), budgets(30)
    assert small == large


@requires_postgres
def test_query_budget_claim_4_plain_submit_5_consensus_and_pay_12():
    counts = budgets(4)
    assert counts["claim (plain)"] <= 4 and counts["claim (consensus)"] <= 4, counts
    assert counts["submit (plain)"] <= 5, counts
    assert counts["submit (consensus)"] <= 12, counts
    # Where the code stands (below the budgets): an extra statement is a regression to look at, such as
    # the lazy read of each answer's task the hand-written answers read once caused.
    assert counts == {"claim (plain)": 3, "submit (plain)": 4, "claim (consensus)": 3, "submit (consensus)": 9}, counts


def test_a_claim_hands_back_the_lease_and_its_task_as_written_gold_or_not():
    """The claim statement returns the new lease and its task (after its count went up): what the database holds."""
    project = factories.make_project(tasks=8, gold_every=2, gold_ratio="0.5", overlap=2, max_overlap=2)
    member = factories.make_member()
    seen_gold = seen_regular = False
    for _ in range(4):
        lease = claiming.work_next(worker=member, project=project).assignment
        stored = Assignment.objects.select_related("task").get(pk=lease.pk)
        assert fields(lease) == fields(stored) and fields(lease.task) == fields(stored.task)
        assert lease.task.data == stored.task.data and isinstance(lease.task.data, dict)
        seen_gold, seen_regular = seen_gold or lease.is_gold, seen_regular or not lease.is_gold
        if not lease.is_gold:
            assert lease.task.assigned_count >= 1  # the count as the claim left it
        submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "ab12"}, idempotency_key=f"g{lease.pk}")
    assert seen_gold and seen_regular


def test_the_claims_project_read_is_the_orms_project_in_one_statement():
    from marketplace.models import Project
    from marketplace.selectors import project_for_work
    from tests.marketplace.expert import make_qualification

    plain = factories.make_project(tasks=1, choices=[], instructions="Type it ✓")
    with CaptureQueriesContext(connection) as read:
        got = project_for_work(project_id=plain.pk)
    assert len(statements(read)) == 1
    assert fields(got) == fields(Project.objects.get(pk=plain.pk)) and got.requires_qualifications is False
    assert not got._state.adding and got.pay_per_task == plain.pay_per_task and got.instructions == "Type it ✓"

    expert = factories.make_project(tasks=1, organization=plain.organization)
    expert.required_qualifications.add(make_qualification())
    assert project_for_work(project_id=expert.pk).requires_qualifications is True
    if connection.vendor == "postgresql":  # the pay floor in force comes with it: what the claim checks
        from decimal import Decimal

        from governance.models import PolicyValue
        from marketplace.pay import current_pay_floor

        assert got.pay_floor_now == current_pay_floor()
        now = timezone.now()
        PolicyValue.objects.create(key="pay_floor_hourly", value=Decimal("31.50"), effective_from=now - timedelta(seconds=1))
        PolicyValue.objects.create(key="pay_floor_hourly", value=Decimal("99.00"), effective_from=now + timedelta(hours=1))
        assert project_for_work(project_id=plain.pk).pay_floor_now == current_pay_floor() == Decimal("31.50")
        PolicyValue.objects.filter(key="pay_floor_hourly").delete()  # none recorded: the founding value
        assert project_for_work(project_id=plain.pk).pay_floor_now == current_pay_floor()
    draft = factories.make_project(tasks=1, organization=plain.organization, publish=False)
    assert project_for_work(project_id=draft.pk) is None  # a draft is the client's business: as if missing
    assert project_for_work(project_id=draft.pk + 1000) is None


@requires_postgres
def test_over_http_a_claim_is_two_statements_and_a_raised_floor_still_stops_it():
    """POST /work/next/ reads the project with the floor in force and claims: two statements. Raising the floor
    (as a passed vote records it) stops the very next claim."""
    from decimal import Decimal

    from governance.models import PolicyValue

    project = factories.make_project(tasks=6, overlap=1, max_overlap=1)
    member = factories.make_member()
    api = _api(member)
    first = api.post("/api/v1/work/next/", {"project": project.pk}, format="json").json()
    api.post(f"/api/v1/work/assignments/{first['assignment']['id']}/submit/", {"answer": {"text": "ab"}}, format="json",
             HTTP_IDEMPOTENCY_KEY="first")
    with CaptureQueriesContext(connection) as claim:
        second = api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
    assert second.status_code == 200 and len(statements(claim)) == 2, statements(claim)
    api.post(f"/api/v1/work/assignments/{second.json()['assignment']['id']}/submit/", {"answer": {"text": "ab"}}, format="json",
             HTTP_IDEMPOTENCY_KEY="second")
    hourly = Decimal(second.json()["project"]["effective_hourly_pay"])
    PolicyValue.objects.create(key="pay_floor_hourly", value=hourly + Decimal("0.01"), effective_from=timezone.now())
    refused = api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
    assert refused.status_code == 204 and refused["X-Coop-Reason"] == "below_pay_floor"
    assert not Assignment.objects.filter(worker=member, state="leased").exists()


def test_a_retried_submit_replays_its_answer_and_a_reused_key_is_refused():
    project = factories.make_project(tasks=3, overlap=1, max_overlap=1)
    member = factories.make_member()
    lease = claiming.work_next(worker=member, project=project).assignment
    answer, created = submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "x"}, idempotency_key="same")
    again, created_again = submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "y"}, idempotency_key="same")
    assert created and not created_again and again.pk == answer.pk and again.value == "x"
    other = claiming.work_next(worker=member, project=project).assignment
    from coop.errors import ApplicationError

    with pytest.raises(ApplicationError) as reused:
        submission.assignment_submit(worker=member, assignment_id=other.pk, payload={"text": "z"}, idempotency_key="same")
    assert reused.value.code == "idempotency_key_reused"
    with pytest.raises(ApplicationError) as twice:
        submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "z"}, idempotency_key="other")
    assert twice.value.code == "already_submitted"
    assert Assignment.objects.get(pk=other.pk).state == Assignment.State.LEASED  # nothing half-written


# --- Prefetch ------------------------------------------------------------------------------------


def _api(member) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {coop_services.api_token_create(actor=None, user=member, name='t').plaintext}")
    return api


def test_prefetch_hands_out_distinct_tasks_the_held_ones_first_and_never_more_than_five():
    project = factories.make_project(tasks=8, overlap=1, max_overlap=1)
    member = factories.make_member()
    api = _api(member)
    first = api.post("/api/v1/work/next/", {"project": project.pk, "count": 3}, format="json")
    assert first.status_code == 200, first.content
    held = [item["assignment"]["id"] for item in first.json()["leases"]]
    tasks = [item["task"]["id"] for item in first.json()["leases"]]
    assert len(held) == 3 and len(set(tasks)) == 3
    # Asking again hands back the same leases (oldest first), not three more.
    again = api.post("/api/v1/work/next/", {"project": project.pk, "count": 3}, format="json").json()
    assert [item["assignment"]["id"] for item in again["leases"]] == held
    more = api.post("/api/v1/work/next/", {"project": project.pk, "count": 5}, format="json").json()
    assert [item["assignment"]["id"] for item in more["leases"]][:3] == held and len(more["leases"]) == 5
    assert Assignment.objects.filter(worker=member, state="leased").count() == 5
    # Queued leases get the time of the ones before them on top of their own.
    expiries = list(Assignment.objects.filter(worker=member, state="leased").order_by("pk").values_list("expires_at", flat=True))
    assert expiries[1] - expiries[0] >= timedelta(seconds=project.estimated_seconds - 1)
    # The plain call (no count) hands back the oldest held lease.
    plain = api.post("/api/v1/work/next/", {"project": project.pk}, format="json").json()
    assert plain["assignment"]["id"] == held[0]
    for lease_id in held:
        response = api.post(f"/api/v1/work/assignments/{lease_id}/submit/", {"answer": {"text": "ab"}}, format="json",
                            HTTP_IDEMPOTENCY_KEY=f"k{lease_id}")
        assert response.status_code == 201
    assert Assignment.objects.filter(worker=member, state="leased").count() == 2


def test_prefetch_respects_overlap_and_refuses_bad_counts():
    project = factories.make_project(tasks=2, overlap=1, max_overlap=1)
    greedy, other = factories.make_member(), factories.make_member()
    got = _api(greedy).post("/api/v1/work/next/", {"project": project.pk, "count": 5}, format="json").json()
    assert len(got["leases"]) == 2
    none = _api(other).post("/api/v1/work/next/", {"project": project.pk, "count": 5}, format="json")
    assert none.status_code == 204 and none["X-Coop-Reason"] == "no_tasks_available"
    assert all(t.assigned_count <= t.required_answers for t in Task.objects.filter(project=project))
    api = _api(other)
    assert api.post("/api/v1/work/next/", {"project": project.pk, "count": 6}, format="json").status_code == 400
    assert api.post("/api/v1/work/next/", {"project": project.pk, "count": 0}, format="json").status_code == 400
    assert api.post("/api/v1/work/next/", {"count": 2}, format="json").status_code == 400


def test_adversarial_a_forged_sixth_live_lease_is_refused_by_the_database():
    project = factories.make_project(tasks=7, overlap=1, max_overlap=1)
    member = factories.make_member()
    leases, _ = claiming.work_next_many(worker=member, project=project, count=5)
    assert sorted(lease.slot for lease in leases) == [0, 1, 2, 3, 4]
    spare = Task.objects.filter(project=project, assigned_count=0).first()
    for slot in (0, 4, 5):  # a taken slot, or one past the last
        with pytest.raises(IntegrityError), transaction.atomic():
            Assignment.objects.create(task=spare, project=project, worker=member, slot=slot, expires_at=timezone.now() + timedelta(minutes=5))


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_eight_parallel_prefetches_by_one_member_hold_at_most_five_distinct_tasks():
    project = factories.make_project(tasks=40, overlap=1, max_overlap=1)
    member = factories.make_member()
    results, errors = run_threads([lambda: claiming.work_next_many(worker=member, project=project, count=5)[0] for _ in range(8)])
    assert errors == []
    live = Assignment.objects.filter(worker=member, project=project, state="leased")
    assert live.count() == 5 and len(set(live.values_list("task_id", flat=True))) == 5
    assert all(len(leases) >= 1 for leases in results)
    assert {lease.pk for leases in results for lease in leases} <= set(live.values_list("pk", flat=True))
    assert sum(Task.objects.filter(project=project).values_list("assigned_count", flat=True)) == 5


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_parallel_prefetches_by_many_members_never_pass_the_overlap():
    project = factories.make_project(tasks=6, overlap=2, max_overlap=2)
    members = [factories.make_member() for _ in range(6)]
    results, errors = run_threads([lambda m=m: claiming.work_next_many(worker=m, project=project, count=5)[0] for m in members])
    assert errors == []
    assert sum(len(leases) for leases in results) == 12  # every slot of every task, once
    for task in Task.objects.filter(project=project):
        holders = list(Assignment.objects.filter(task=task).values_list("worker_id", flat=True))
        assert len(holders) == task.assigned_count == 2 and len(set(holders)) == 2


def test_prefetched_leases_that_ran_out_free_their_slots():
    project = factories.make_project(tasks=12, overlap=1, max_overlap=1)
    member = factories.make_member()
    leases, _ = claiming.work_next_many(worker=member, project=project, count=5)
    Assignment.objects.filter(pk__in=[lease.pk for lease in leases]).update(expires_at=timezone.now() - timedelta(seconds=1))
    fresh, reason = claiming.work_next_many(worker=member, project=project, count=5)
    assert len(fresh) == 5 and not {lease.pk for lease in fresh} & {lease.pk for lease in leases}, reason
    assert Assignment.objects.filter(pk__in=[lease.pk for lease in leases], state="expired").count() == 5


def test_a_feed_wide_claim_does_not_cost_queries_per_sensitive_project():
    """`work_next` without a project reads the member's opt-ins and today's sensitive time once, not per project."""
    from marketplace.services import wellbeing

    organization = factories.make_organization()
    member = factories.make_member()
    wellbeing.preference_set(worker=member, sensitive_opt_in=["violence"])

    def feed_claim_queries() -> int:
        with CaptureQueriesContext(connection) as claim:
            lease = claiming.work_next(worker=member).assignment
        assert lease is not None
        claiming.assignment_release(worker=member, assignment_id=lease.pk)
        return len(statements(claim))

    # Enough tasks that the first project never runs dry here (a released task is never handed to the same member again).
    factories.make_project(organization, tasks=6, sensitive_categories=["violence"], title="One sensitive")
    feed_claim_queries()  # first contact: the member's counters for the project are created
    one = feed_claim_queries()
    for i in range(4):
        factories.make_project(organization, tasks=2, sensitive_categories=["violence"], title=f"More sensitive {i}")
    assert feed_claim_queries() == one


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_the_hand_written_lease_reads_build_what_the_orm_builds():
    """The claim's lease read and the submit's lease lock are plain SQL (coop.rows): every field of the
    assignment, its task (JSON data, image, gold) and its project equals what select_related returns."""
    project = factories.make_project(task_type="ocr", tasks=2, overlap=2, max_overlap=2)
    worker = factories.make_member()
    lease = claiming.work_next(worker=worker, project=project).assignment
    expected = Assignment.objects.select_related("task", "project").get(pk=lease.pk)
    assert _fields(lease) == _fields(expected)
    if connection.vendor == "postgresql":  # the claim statement's lease read; SQLite's ORM steps hand back the
        assert _fields(lease.task) == _fields(expected.task)  # task as read before the lease counted on it
    with transaction.atomic():
        locked = submission._locked_lease(worker, lease.pk)
    assert _fields(locked) == _fields(expected)
    assert _fields(locked.task) == _fields(expected.task) and _fields(locked.project) == _fields(expected.project)
    assert locked.task.data == expected.task.data and locked.project.pay_per_task == expected.project.pay_per_task
    with pytest.raises(Exception) as missing:
        submission._locked_lease(factories.make_member(), lease.pk)  # another member's lease: not found
    assert missing.value.code == "not_found"


def test_the_hand_written_answers_read_of_consensus_builds_what_the_orm_builds():
    """task_resolve reads a task's answers as plain SQL: the same answers (the rejected left out), oldest first,
    field by field (JSON payload, statuses, times)."""
    from marketplace.services import consensus

    project = factories.make_project(task_type="ocr", tasks=1, overlap=3, max_overlap=3)
    task = project.tasks.get()
    for text in ("ab12", "ab12", "zz99"):
        worker = factories.make_member()
        lease = claiming.work_next(worker=worker, project=project).assignment
        submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key=f"k{lease.pk}")
    Answer.objects.filter(task=task, value="zz99").update(status=Answer.Status.REJECTED)
    read = consensus.answers_counted(task)
    expected = list(task.answers.exclude(status=Answer.Status.REJECTED).order_by("pk"))
    assert len(read) == 2 and [_fields(a) for a in read] == [_fields(a) for a in expected]
    assert read[0].payload == {"text": "ab12"} and read[0].submitted_at == expected[0].submitted_at
    with CaptureQueriesContext(connection) as reads:
        assert {a.task.external_id for a in read} == {task.external_id}  # the payment's description needs it
    assert len(reads) == 0  # held, as the related manager holds it: no read per answer


@requires_postgres
@pytest.mark.django_db(transaction=True)  # committed rows, so other connections see them
def test_adversarial_the_submit_holds_its_assignment_and_task_locked_until_it_commits():
    from django.db.utils import OperationalError

    project = factories.make_project(tasks=1, overlap=2, max_overlap=2)
    worker = factories.make_member()
    lease = claiming.work_next(worker=worker, project=project).assignment

    def try_lock(table, row_id):
        def attempt():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [row_id])
        return attempt

    with transaction.atomic():
        locked = submission._locked_lease(worker, lease.pk)
        _, errors = run_threads([try_lock("marketplace_assignment", lease.pk), try_lock("marketplace_task", lease.task_id)])
        assert len(errors) == 2 and all(isinstance(error, OperationalError) for error in errors)  # both rows were held
        _, errors = run_threads([try_lock("marketplace_project", project.pk)])
        assert errors == []  # the project is only read: submits to one project never queue behind each other
    assert locked.pk == lease.pk
