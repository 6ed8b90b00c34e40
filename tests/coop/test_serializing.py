"""coop.serializing: represent is what the serializer's `.data` is, for every instance, and validated what its
`is_valid` gives or raises, for every input, without rebuilding its fields."""

import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from coop.models import Membership
from coop.serializing import represent, validated
from marketplace.apis_work import HeartbeatInput, WorkNextInput
from marketplace.models import Answer, Assignment
from marketplace.serializers import AnswerOutput, AssignmentOutput, SubmitInput
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


def _is_valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _outcome(validate, serializer_class, data):
    try:
        return "valid", dict(validate(serializer_class, data))
    except ValidationError as error:
        return "invalid", error.detail, error.get_codes(), error.status_code


INPUTS = {
    WorkNextInput: [
        {}, {"project": 3}, {"project": "3"}, {"project": 3, "count": 5}, {"project": 3, "count": 6}, {"count": 2},
        {"project": "x"}, {"project": -1}, {"project": 3, "count": 0}, {"project": 3, "count": "two"}, {"project": None},
        {"project": 3, "unknown": 1}, [], "project", None, QueryDict("project=4&count=2"),
    ],
    SubmitInput: [
        {"answer": {"text": "ab12"}}, {"answer": {"text": "x"}, "active_seconds": 9, "prefilled": "x"}, {},
        {"answer": "ab12"}, {"answer": None}, {"answer": {"text": "x"}, "active_seconds": -1},
        {"answer": {"text": "x"}, "prefilled": "p" * 1001}, {"answer": {"text": "x"}, "prefilled": ""},
        {"answer": {"text": "x"}, "active_seconds": 1.5}, {"answer": []}, [1], None,
    ],
    HeartbeatInput: [{}, {"active_seconds": 30}, {"active_seconds": 3601}, {"active_seconds": "soon"}, None],
}


@pytest.mark.parametrize("serializer_class", list(INPUTS), ids=lambda cls: cls.__name__)
def test_validated_gives_and_refuses_what_is_valid_does(serializer_class):
    for data in INPUTS[serializer_class]:
        assert _outcome(validated, serializer_class, data) == _outcome(_is_valid, serializer_class, data), data


def test_validated_refuses_a_serializer_whose_fields_read_context():
    class WithChild(serializers.Serializer):
        lease = AssignmentOutput()

    with pytest.raises(TypeError, match="flat serializers"):
        validated(WithChild, {"lease": {}})
