"""coop.serializing.represent: what the serializer's `.data` is, for every instance, without rebuilding its fields."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework import serializers

from coop.models import Membership
from coop.serializing import represent
from marketplace.models import Answer, Assignment
from marketplace.serializers import AnswerOutput, AssignmentOutput
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_hot_paths_outputs_are_the_serializers_data_for_every_state():
    project = factories.make_project(tasks=2, overlap=1, max_overlap=1)
    member = factories.make_member()
    lease = claiming.work_next(worker=member, project=project).assignment
    assert represent(AssignmentOutput, lease) == AssignmentOutput(lease).data
    answer, _ = submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "ab ✓"}, idempotency_key="k")
    ended = Assignment.objects.get(pk=lease.pk)
    assert represent(AssignmentOutput, ended) == AssignmentOutput(ended).data and ended.state != lease.state
    for instance in (answer, Answer.objects.get(pk=answer.pk)):
        assert represent(AnswerOutput, instance) == AnswerOutput(instance).data
    # None, empty and odd values go through as the serializer sends them
    odd = Answer(pk=7, assignment_id=1, task_id=2, payload={"nested": [1, None, "é"]}, status="rejected", submitted_at=None,
                 active_seconds=None, appeal_status="")
    assert represent(AnswerOutput, odd) == AnswerOutput(odd).data
    assert represent(AnswerOutput, odd)["submitted_at"] is None


def test_times_are_written_in_the_time_zone_active_for_each_request():
    at = dt.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=dt.timezone.utc)
    lease = Assignment(pk=3, state="leased", leased_at=at, expires_at=at + dt.timedelta(minutes=10), active_seconds=0)
    for zone in ("UTC", "Africa/Nairobi", "America/Lima"):
        with timezone.override(zone):
            assert represent(AssignmentOutput, lease) == AssignmentOutput(lease).data
    with timezone.override("Africa/Nairobi"):
        assert represent(AssignmentOutput, lease)["leased_at"].endswith("+03:00")


def test_a_serializer_whose_fields_read_context_is_refused():
    class Nested(serializers.ModelSerializer):
        class Meta:
            model = Membership
            fields = ["id", "user"]  # a relation

    class WithMethod(serializers.Serializer):
        id = serializers.IntegerField()
        shown = serializers.SerializerMethodField()

        def get_shown(self, obj):
            return self.context["request"]

    class WithChild(serializers.Serializer):
        lease = AssignmentOutput()

    for refused in (Nested, WithMethod, WithChild):
        with pytest.raises(TypeError, match="flat serializers"):
            represent(refused, object())
