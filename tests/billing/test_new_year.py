"""The turn of the program year: a renewal prepared in December serves January, so next
year's program pays it, at the tier the official data gives (no ministry action needed)."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import select

from saas import regions
from saas.control.billing.models import Subscription, TierAssignment
from saas.control.billing.services import subsidy
from saas.core.clock import SEOUL
from saas.core.tenancy.binding import session_without_tenant
from tests.billing.stripe_events import deliver, process

BASIC_ONLY = {"basic_local_gov_only": True}


def test_a_renewal_prepared_on_new_years_eve_is_paid_by_next_years_program_at_the_official_tier(
    engine, webhook_app, stripe_fake, stripe_gateway, default_plan, make_program, make_tenant
):
    client = webhook_app.test_client()
    with time_machine.travel(datetime(2140, 12, 31, 23, 59, tzinfo=SEOUL), tick=True):
        this_year = make_program(10**9, fiscal_year=2140, eligibility=BASIC_ONLY)
        next_year = make_program(10**9, fiscal_year=2141, eligibility=BASIC_ONLY)
        tenant = make_tenant("mokpo_new_year", low_tier=True)  # the 70 % tier
        process(engine, stripe_gateway, deliver(client, stripe_fake))
        with session_without_tenant(engine) as session:
            subscription = session.scalar(select(Subscription).where(Subscription.tenant_id == tenant.id))
            reservation = subsidy.do_prepare_renewal(session, stripe_gateway, subscription)
            assignments = session.scalars(
                select(TierAssignment)
                .where(TierAssignment.tenant_id == tenant.id)
                .order_by(TierAssignment.program_id)
            ).all()
    assert reservation.program_id == next_year.id
    assert reservation.amount == default_plan.amount * 7000 // 10000
    assert reservation.inputs["service_period_start"].startswith("2141-01-")
    assert [(a.program_id, a.tier, a.created_by) for a in assignments] == [
        (this_year.id, "low", "system"),
        (next_year.id, "low", "system"),
    ]
    assert assignments[1].evidence.startswith(regions.FISCAL_INDEPENDENCE_NOTE)
