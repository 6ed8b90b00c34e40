"""/api/v1/ routes of the marketplace."""

from django.urls import path

from . import apis, apis_work
from . import apis_datasets as dataset_apis
from . import apis_money as money_apis
from .benefits.urls import api_urlpatterns as benefits_api_urlpatterns
from .expert.api_urls import urlpatterns as expert_urlpatterns

urlpatterns = [
    path("projects/", apis.ProjectListApi.as_view(), name="projects"),
    path("projects/<int:project_id>/", apis.ProjectDetailApi.as_view(), name="project"),
    path("projects/<int:project_id>/tasks/", apis.ProjectTasksApi.as_view(), name="project-tasks"),
    path("projects/<int:project_id>/tasks/<int:task_id>/", apis.TaskDetailApi.as_view(), name="project-task"),
    path("projects/<int:project_id>/tasks/<int:task_id>/answers/", apis.TaskAnswersApi.as_view(), name="project-task-answers"),
    path("projects/<int:project_id>/publish/", apis.ProjectPublishApi.as_view(), name="project-publish"),
    path("projects/<int:project_id>/pause/", apis.ProjectPauseApi.as_view(), name="project-pause"),
    path("projects/<int:project_id>/cancel/", apis.ProjectCancelApi.as_view(), name="project-cancel"),
    path("projects/<int:project_id>/resume-vote/", apis.ProjectResumeVoteApi.as_view(), name="project-resume-vote"),
    path("projects/<int:project_id>/results/", apis.ProjectResultsApi.as_view(), name="project-results"),
    path("projects/<int:project_id>/answers/", dataset_apis.ProjectAnswersExportApi.as_view(), name="project-answers"),
    path("projects/<int:project_id>/preferences/", dataset_apis.ProjectPreferencesApi.as_view(), name="project-preferences"),
    path("projects/<int:project_id>/datasheet/", dataset_apis.ProjectDatasheetApi.as_view(), name="project-datasheet"),
    path("projects/<int:project_id>/agreement/", dataset_apis.ProjectAgreementApi.as_view(), name="project-agreement"),
    path("work/agreement/", dataset_apis.MyAgreementApi.as_view(), name="work-agreement"),
    path("projects/<int:project_id>/escrow/", money_apis.ProjectEscrowApi.as_view(), name="project-escrow"),
    path("projects/<int:project_id>/statement/", money_apis.ProjectStatementApi.as_view(), name="project-statement"),
    path("organizations/me/balance/", money_apis.OrganizationBalanceApi.as_view(), name="organization-balance"),
    path("organizations/<str:organization>/deposits/", money_apis.OrganizationDepositApi.as_view(), name="organization-deposits"),
    path("payouts/", money_apis.PayoutDeskApi.as_view(), name="payouts"),
    path("payouts/<int:payout_id>/paid/", money_apis.PayoutPaidApi.as_view(), name="payout-paid"),
    path("work/earnings/", money_apis.EarningsApi.as_view(), name="work-earnings"),
    path("work/earnings/statement/", money_apis.EarningsStatementApi.as_view(), name="work-earnings-statement"),
    path("work/payouts/", money_apis.MyPayoutsApi.as_view(), name="work-payouts"),
    path("work/payouts/<int:payout_id>/cancel/", money_apis.MyPayoutCancelApi.as_view(), name="work-payout-cancel"),
    path("work/next/", apis_work.WorkNextApi.as_view(), name="work-next"),
    path("work/submissions/", apis_work.SubmissionListApi.as_view(), name="work-submissions"),
    path("work/records/", apis_work.WorkRecordsApi.as_view(), name="work-records"),
    path("work/assignments/<int:assignment_id>/submit/", apis_work.AssignmentSubmitApi.as_view(), name="assignment-submit"),
    path("work/assignments/<int:assignment_id>/heartbeat/", apis_work.AssignmentHeartbeatApi.as_view(), name="assignment-heartbeat"),
    path("work/assignments/<int:assignment_id>/release/", apis_work.AssignmentReleaseApi.as_view(), name="assignment-release"),
    path("work/assignments/<int:assignment_id>/image/", apis_work.AssignmentImageApi.as_view(), name="assignment-image"),
    path("work/answers/<int:answer_id>/appeal/", apis_work.AnswerAppealApi.as_view(), name="answer-appeal"),
    *expert_urlpatterns,  # qualifications, rate cards, accuracy, bonuses (marketplace/expert/)
    *benefits_api_urlpatterns,  # the benefits fund, my claims, my contributions record (marketplace/benefits/)
]
