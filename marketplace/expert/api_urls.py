"""/api/v1/ routes of expert work (included by marketplace/api_urls.py)."""

from django.urls import path

from . import apis

urlpatterns = [
    path("qualifications/", apis.QualificationListApi.as_view(), name="qualifications"),
    path("qualifications/verify/", apis.VerifyApi.as_view(), name="qualifications-verify"),
    path("qualifications/attempts/<int:attempt_id>/submit/", apis.AttemptSubmitApi.as_view(), name="qualification-attempt-submit"),
    path("qualifications/attempts/<int:attempt_id>/items/<int:item_id>/image/", apis.AttemptItemImageApi.as_view(), name="qualification-item-image"),
    path("qualifications/<slug:slug>/attempts/", apis.AttemptStartApi.as_view(), name="qualification-attempts"),
    path("qualifications/<slug:slug>/nominations/", apis.NominationApi.as_view(), name="qualification-nominations"),
    path("rate-cards/", apis.RateCardApi.as_view(), name="rate-cards"),
    path("projects/<int:project_id>/bonuses/", apis.ProjectBonusApi.as_view(), name="project-bonuses"),
    path("work/qualifications/export/", apis.ExportApi.as_view(), name="work-qualifications-export"),
    path("work/accuracy/", apis.AccuracyApi.as_view(), name="work-accuracy"),
    path("work/accuracy/<int:project_id>/appeal/", apis.AccuracyAppealApi.as_view(), name="work-accuracy-appeal"),
    path("work/bonuses/", apis.MyBonusesApi.as_view(), name="work-bonuses"),
    path("projects/<int:project_id>/questions/", apis.ClientQuestionsApi.as_view(), name="project-questions"),
    path("projects/<int:project_id>/questions/<int:question_id>/answer/", apis.ClientAnswerApi.as_view(), name="project-question-answer"),
    path("projects/<int:project_id>/instructions/", apis.InstructionsAmendApi.as_view(), name="project-instructions"),
    path("work/projects/<int:project_id>/questions/", apis.MemberQuestionsApi.as_view(), name="work-project-questions"),
    path("work/payout-destination/", apis.PayoutDestinationApi.as_view(), name="work-payout-destination"),
]
