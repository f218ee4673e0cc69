"""A subsidy program pays one portal per municipality, however many it ever had."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from provisioning.lifecycle import do_delete_tenant_irreversibly
from saas.control.billing.models import BillingAlert, SubsidyBeneficiary
from saas.control.billing.services.subsidy import do_reserve
from saas.core.tenancy.binding import session_without_tenant


def _reserve(engine, tenant_id: int, start: date):
    with session_without_tenant(engine) as session:
        return do_reserve(
            session, tenant_id=tenant_id, service_start=start, subsidizable=1_000_000, subtotal=1_000_000
        )


def test_a_second_portal_of_a_municipality_gets_nothing_from_the_same_program(
    engine, make_tenant, make_program, assign, free_region
):
    program = make_program(10**9)
    year = program.fiscal_year
    region = free_region()
    first = make_tenant(region=region)
    assign(program.id, first.id, date(year, 1, 1), "low")
    assert _reserve(engine, first.id, date(year, 3, 1)).amount == 700_000

    # The portal is deleted and the municipality onboarded again, in the same program year.
    with session_without_tenant(engine) as session:
        do_delete_tenant_irreversibly(session, first.slug, confirm=first.slug, actor="test")
    second = make_tenant(region=region)
    assign(program.id, second.id, date(year, 1, 1), "low")
    refused = _reserve(engine, second.id, date(year, 4, 1))
    assert refused.amount == 0 and refused.entry is None
    assert f"through tenant {first.id}" in refused.inputs["reason"]
    with session_without_tenant(engine) as session:
        alert = session.scalar(select(BillingAlert).where(BillingAlert.tenant_id == second.id))
        beneficiaries = session.scalars(
            select(SubsidyBeneficiary.tenant_id).where(SubsidyBeneficiary.program_id == program.id)
        ).all()
    assert alert is not None and alert.kind == "second_portal_of_municipality"
    assert beneficiaries == [first.id]

    # Another program year pays the portal the municipality has now.
    later = make_program(10**9)
    assign(later.id, second.id, date(later.fiscal_year, 1, 1), "low")
    assert _reserve(engine, second.id, date(later.fiscal_year, 3, 1)).amount == 700_000


def test_the_database_refuses_a_second_beneficiary_for_one_municipality_and_program(
    engine, make_tenant, make_program
):
    program = make_program(10**9)
    tenant = make_tenant()
    with session_without_tenant(engine) as session:
        region = "1111000000"  # 서울특별시 종로구 (no foreign key: the ledger outlives tenants)
        session.add(SubsidyBeneficiary(program_id=program.id, region_code=region, tenant_id=tenant.id))
        session.commit()
        session.add(SubsidyBeneficiary(program_id=program.id, region_code=region, tenant_id=tenant.id + 1))
        with pytest.raises(IntegrityError):
            session.commit()
