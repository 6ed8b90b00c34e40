"""/api/v1/ routes of the marketplace."""

from django.urls import path

from . import apis

urlpatterns = [
    path("projects/", apis.ProjectListApi.as_view(), name="projects"),
    path("projects/<int:project_id>/", apis.ProjectDetailApi.as_view(), name="project"),
    path("projects/<int:project_id>/tasks/", apis.ProjectTasksImportApi.as_view(), name="project-tasks"),
    path("projects/<int:project_id>/publish/", apis.ProjectPublishApi.as_view(), name="project-publish"),
    path("projects/<int:project_id>/pause/", apis.ProjectPauseApi.as_view(), name="project-pause"),
    path("projects/<int:project_id>/cancel/", apis.ProjectCancelApi.as_view(), name="project-cancel"),
    path("projects/<int:project_id>/results/", apis.ProjectResultsApi.as_view(), name="project-results"),
    path("work/next/", apis.WorkNextApi.as_view(), name="work-next"),
    path("work/submissions/", apis.SubmissionListApi.as_view(), name="work-submissions"),
    path("work/records/", apis.WorkRecordsApi.as_view(), name="work-records"),
    path("work/assignments/<int:assignment_id>/submit/", apis.AssignmentSubmitApi.as_view(), name="assignment-submit"),
    path("work/assignments/<int:assignment_id>/heartbeat/", apis.AssignmentHeartbeatApi.as_view(), name="assignment-heartbeat"),
    path("work/assignments/<int:assignment_id>/release/", apis.AssignmentReleaseApi.as_view(), name="assignment-release"),
    path("work/assignments/<int:assignment_id>/image/", apis.AssignmentImageApi.as_view(), name="assignment-image"),
    path("work/answers/<int:answer_id>/appeal/", apis.AnswerAppealApi.as_view(), name="answer-appeal"),
]
