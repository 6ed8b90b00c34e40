"""/api/v1/ routes of the governance app (namespace api:governance)."""

from django.urls import path

from . import apis

urlpatterns = [
    path("proposals/", apis.ProposalListApi.as_view(), name="proposals"),
    path("proposals/<int:pk>/", apis.ProposalDetailApi.as_view(), name="proposal"),
    path("proposals/<int:pk>/vote/", apis.ProposalVoteApi.as_view(), name="proposal-vote"),
    path("proposals/<int:pk>/results/", apis.ProposalResultsApi.as_view(), name="proposal-results"),
    path("contracts/", apis.ClientContractListApi.as_view(), name="contracts"),
    path("contracts/<int:pk>/", apis.ClientContractDetailApi.as_view(), name="contract"),
    path("dua/", apis.ClientDuaListApi.as_view(), name="duas"),
    path("dua/<int:pk>/", apis.ClientDuaDetailApi.as_view(), name="dua"),
    path("dua/<int:pk>/attest-deletion/", apis.ClientDuaAttestDeletionApi.as_view(), name="dua-attest-deletion"),
]
