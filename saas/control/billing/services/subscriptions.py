"""Plans and the tenant's subscription (a Stripe customer and subscription)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from saas.control.billing.gateway import StripeGateway
from saas.control.billing.models import Plan, Subscription
from saas.control.billing.services import programs
from saas.core import clock
from saas.core.audit import services as audit
from saas.core.refusals import Conflict
from saas.core.registry.models import Tenant


class PlanRefused(Conflict):
    """A plan that cannot be made as asked (its code is taken): a 409."""


def do_create_plan(
    session: Session,
    gateway: StripeGateway,
    *,
    code: str,
    name: str,
    amount: int,
    interval: str,
    is_default: bool,
    actor: str,
) -> Plan:
    """A plan and its Stripe product and price. Commits."""
    if session.scalar(select(Plan.id).where(Plan.code == code)) is not None:
        raise PlanRefused(f"a plan {code!r} exists already")
    product_id, price_id = gateway.create_product_and_price(
        name=name, amount=amount, interval=interval, metadata={"plan": code}, idempotency_key=f"plan-{code}"
    )
    if is_default:
        session.execute(update(Plan).values(is_default=False))
    plan = Plan(
        code=code,
        name=name,
        amount=amount,
        interval=interval,
        is_default=is_default,
        stripe_product_id=product_id,
        stripe_price_id=price_id,
    )
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="billing.plan.create",
        target=f"plan:{code}",
        data={"amount": amount, "interval": interval, "default": is_default},
    )
    session.commit()
    return plan


def open_billing(session: Session, gateway_factory, tenant_id: int) -> Subscription | None:
    """Provisioning step: subscribe the tenant to the default plan (customer, then subscription)
    and assign its subsidy tier for this fiscal year from the official fiscal data.

    Safe to re-run: the Stripe calls carry keys derived from the tenant, so a retried step gets
    the objects the crashed attempt created. Without a default plan there is nothing to open.
    Runs in the caller's transaction (the step's)."""
    plan = session.scalar(select(Plan).where(Plan.is_default.is_(True)))
    if plan is None:
        return None
    tenant = session.get(Tenant, tenant_id)
    assert tenant is not None
    subscription = session.scalar(select(Subscription).where(Subscription.tenant_id == tenant_id))
    if subscription is not None and subscription.stripe_subscription_id:
        return subscription
    gateway: StripeGateway = gateway_factory()
    # Tenant ids are never reused, so the keys name this tenant's billing for good.
    customer = gateway.create_customer(
        name=tenant.name,
        metadata={"tenant_id": str(tenant.id), "slug": tenant.slug},
        idempotency_key=f"tenant-{tenant.id}-customer",
    )
    today = clock.today()
    program = programs.program_for_service_period(session, today)
    if program is not None:
        programs.assign_tier_from_official_data(session, program, tenant, today)
    stripe_subscription = gateway.create_subscription(
        customer=customer["id"],
        price=plan.stripe_price_id or "",
        metadata={"tenant_id": str(tenant.id), "plan": plan.code},
        idempotency_key=f"tenant-{tenant.id}-subscription",
    )
    if subscription is None:
        subscription = Subscription(tenant_id=tenant.id, plan_id=plan.id, status="active")
        session.add(subscription)
    subscription.stripe_customer_id = customer["id"]
    subscription.stripe_subscription_id = stripe_subscription["id"]
    subscription.status = stripe_subscription.get("status", "active")
    session.flush()
    audit.record(
        session,
        actor="system",
        action="billing.subscription.open",
        tenant_slug=tenant.slug,
        data={"plan": plan.code, "customer": customer["id"], "subscription": stripe_subscription["id"]},
    )
    return subscription


def subscription_for_tenant(session: Session, tenant_id: int) -> Subscription | None:
    return session.scalar(select(Subscription).where(Subscription.tenant_id == tenant_id))


def subscription_for_customer(session: Session, customer_id: str) -> Subscription | None:
    return session.scalar(select(Subscription).where(Subscription.stripe_customer_id == customer_id))
