"""Fixtures of the governance tests: voters, and an active contract and DUA ratified by a real vote."""

import pytest

from governance import services

from .helpers import contract_terms, dua_terms, make_members, ratify


@pytest.fixture
def voters(db):
    return make_members(3)


@pytest.fixture
def active_contract(steward, organization, voters):
    contract = services.contract_create(actor=steward, organization=organization, **contract_terms())
    ratify(contract, steward, voters)
    assert contract.status == "active"
    return contract


@pytest.fixture
def active_dua(steward, active_contract, voters):
    dua = services.dua_create(actor=steward, contract=active_contract, **dua_terms())
    ratify(dua, steward, voters)
    assert dua.status == "active"
    return dua
