"""/api/v1/ routes of the governance app (namespace api:governance)."""

from django.urls import path

from . import apis, apis_initiative

urlpatterns = [
    path("proposals/", apis_initiative.ProposalListCreateApi.as_view(), name="proposals"),
    path("proposals/<int:pk>/cosponsor/", apis_initiative.ProposalCosponsorApi.as_view(), name="proposal-cosponsor"),
    path("proposals/<int:pk>/withdraw/", apis_initiative.ProposalWithdrawApi.as_view(), name="proposal-withdraw"),
    path("proposals/<int:pk>/comments/", apis_initiative.ProposalCommentsApi.as_view(), name="proposal-comments"),
    path("delegations/", apis_initiative.DelegationListApi.as_view(), name="delegations"),
    path("delegations/<int:pk>/revoke/", apis_initiative.DelegationRevokeApi.as_view(), name="delegation-revoke"),
    path("proposals/<int:pk>/", apis.ProposalDetailApi.as_view(), name="proposal"),
    path("proposals/<int:pk>/vote/", apis.ProposalVoteApi.as_view(), name="proposal-vote"),
    path("proposals/<int:pk>/results/", apis.ProposalResultsApi.as_view(), name="proposal-results"),
    path("contracts/", apis.ClientContractListApi.as_view(), name="contracts"),
    path("contracts/<int:pk>/", apis.ClientContractDetailApi.as_view(), name="contract"),
    path("dua/", apis.ClientDuaListApi.as_view(), name="duas"),
    path("dua/<int:pk>/", apis.ClientDuaDetailApi.as_view(), name="dua"),
    path("dua/<int:pk>/attest-deletion/", apis.ClientDuaAttestDeletionApi.as_view(), name="dua-attest-deletion"),
]
