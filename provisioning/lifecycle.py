"""Tenant lifecycle actions (register, domains, the admin's invitation, suspend, resume,
retry, delete, template upgrade) and the registry reads the tenants API shows. Each action
owns its transaction and writes its audit event in it; registering and retrying enqueue the
provisioning job themselves, after the commit. Every caller (the API, the CLI, the bulk
onboarding, the demo) registers and retries through here."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from migrations.runner import drop_tenant_schema_irreversibly
from provisioning.errors import ProvisioningRefused, TenantConflict, TenantNotFound
from provisioning.templates import Template, TemplateNotFound, diff_template, get_template
from saas import regions
from saas.core import clock
from saas.core.audit import services as audit
from saas.core.queue import enqueue_after_commit
from saas.core.registry.models import ProvisioningStep, Tenant, TenantDomain, TenantStatus
from saas.core.tenancy.binding import tenant_session
from saas.core.tenancy.slugs import InvalidSlug, is_valid_slug, validate_slug

if TYPE_CHECKING:
    from rq import Queue

_DOMAIN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def tenant_by_slug(session: Session, slug: str, *, lock: bool = False) -> Tenant:
    statement = select(Tenant).where(Tenant.slug == slug)
    if lock:
        statement = statement.with_for_update()
    tenant = session.scalar(statement)
    if tenant is None:
        raise TenantNotFound(f"there is no tenant {slug!r}")
    return tenant


def _normalised_domain(domain: str) -> str:
    return domain.strip().lower().rstrip(".")


def _validated_domains(
    session: Session, domains: list[str], *, platform_domain: str, tenant_id: int | None = None
) -> list[str]:
    """The domains, normalised (case, surrounding space, a trailing dot) and deduplicated.

    Raises `ProvisioningRefused` (field `domains`) for a malformed name or one equal to or
    under the platform's own domain (`<slug>.<platform>` is every portal's by right, and a
    custom domain there would let one tenant take another's host), and `TenantConflict` for a
    domain of another tenant than `tenant_id`."""
    platform = _normalised_domain(platform_domain)
    cleaned = []
    for raw in domains:
        domain = _normalised_domain(raw)
        if not _DOMAIN_RE.match(domain):
            raise ProvisioningRefused(f"domains: {domain!r} is not a valid domain name", field="domains")
        if domain == platform or domain.endswith("." + platform):
            raise ProvisioningRefused(
                f"domains: {domain!r} is the platform's own domain or under it; portals answer on "
                f"<slug>.{platform} already, a custom domain must be outside {platform}",
                field="domains",
            )
        statement = select(Tenant.slug).join(TenantDomain).where(TenantDomain.domain == domain)
        if tenant_id is not None:
            statement = statement.where(Tenant.id != tenant_id)
        owner = session.scalar(statement)
        if owner is not None:
            raise TenantConflict(f"the domain {domain} already belongs to tenant {owner!r}")
        cleaned.append(domain)
    return sorted(set(cleaned))


def portal_of_region(session: Session, region_code10: str, *, besides: int | None = None) -> Tenant | None:
    """The tenant (any status: deleted tenants have no row) that serves the municipality
    `region_code10`, other than tenant `besides`."""
    statement = select(Tenant).where(Tenant.region_code == region_code10)
    if besides is not None:
        statement = statement.where(Tenant.id != besides)
    return session.scalars(statement.order_by(Tenant.id).limit(1)).first()


def region_taken(tenant: Tenant) -> TenantConflict:
    return TenantConflict(
        f"{tenant.name} (region {tenant.region_code[:5]}) already has a portal: {tenant.slug!r} "
        f"({tenant.status.value}); one municipality has one portal"
    )


def _conflict_of(session: Session, error: IntegrityError, *, slug: str, region_code10: str) -> TenantConflict:
    """The 409 for a unique index that a concurrent registration won."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", "") or ""
    session.rollback()
    if "region" in constraint:
        holder = portal_of_region(session, region_code10)
        if holder is not None:
            return region_taken(holder)
    if "domain" in constraint:
        return TenantConflict("one of the domains was just given to another tenant")
    return TenantConflict(f"a tenant named {slug!r} already exists")


def do_register_tenant(
    session: Session,
    *,
    slug: str,
    region_code: str,
    template: str,
    name: str | None = None,
    domains: list[str] | tuple[str, ...] = (),
    admin_email: str | None = None,
    queue: Queue | None = None,
    platform_domain: str,
    actor: str,
) -> Tenant:
    """Record a new tenant in state `provisioning`, commit, and enqueue its provisioning job
    on `queue` once committed (the tenant's `job_id` names the job to poll). Without a queue
    nothing is enqueued: the caller runs `provisioning.runner.run_provisioning` itself.

    Raises `ProvisioningRefused` (invalid slug, region, template or domain, naming the field)
    or `TenantConflict` (slug or domain taken, or the municipality already has a portal:
    checked here, and enforced by unique indexes when two registrations race)."""
    try:
        validate_slug(slug)
    except InvalidSlug as error:
        raise ProvisioningRefused(f"slug: {error}", field="slug") from None
    try:
        government = regions.lookup(region_code)
    except regions.UnknownRegion as error:
        raise ProvisioningRefused(f"region: {error}", field="region") from None
    # 세종 is a single-tier government: it runs its own PB although it is not a 시·군·구.
    if not (government.is_basic_local_gov or government.unit_type.startswith("특별자치시")):
        raise ProvisioningRefused(
            f"region: {government.full_name_ko} ({government.sgg_code}) is a {government.unit_type}, "
            "not a basic local government (시·군·자치구); use the code of the government it belongs to",
            field="region",
        )
    chosen = _template_or_refuse(template, None)
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise TenantConflict(f"a tenant named {slug!r} already exists")
    holder = portal_of_region(session, government.adm_code10)
    if holder is not None:
        raise region_taken(holder)
    domain_names = _validated_domains(session, list(domains), platform_domain=platform_domain)
    branding = chosen.data["branding"]
    tenant = Tenant(
        slug=slug,
        name=name or government.full_name_ko,
        name_en=government.name_en,
        region_code=government.adm_code10,
        status=TenantStatus.PROVISIONING,
        template_name=chosen.name,
        template_version=chosen.version,
        branding={
            "primary_color": branding["primary_color"],
            "accent_color": branding["accent_color"],
            "logo_text": branding["logo_text"],
        },
        admin_email=admin_email.strip().lower() if admin_email else None,
        job_id=_enqueue_provisioning(session, queue, slug),
        domains=[TenantDomain(domain=d) for d in domain_names],
    )
    session.add(tenant)
    try:
        session.flush()
    except IntegrityError as error:
        raise _conflict_of(session, error, slug=slug, region_code10=government.adm_code10) from None
    audit.record(
        session,
        actor=actor,
        action="tenant.register",
        tenant_slug=slug,
        data={
            "region_code": tenant.region_code,
            "template": f"{chosen.name}@{chosen.version}",
            "domains": domain_names,
        },
    )
    session.commit()
    return tenant


def do_set_tenant_domains(
    session: Session, slug: str, domains: list[str], *, platform_domain: str, actor: str
) -> Tenant:
    """Replace the custom domains of tenant `slug` (validated as at registration), audited.
    The caller forgets cached host lookups after it. Raises `TenantNotFound`,
    `ProvisioningRefused` (field `domains`) or `TenantConflict` (another tenant's domain)."""
    tenant = tenant_by_slug(session, slug, lock=True)
    names = _validated_domains(session, domains, platform_domain=platform_domain, tenant_id=tenant.id)
    before = [d.domain for d in tenant.domains]
    if names == before:
        return tenant
    tenant.domains = [d for d in tenant.domains if d.domain in names]
    session.flush()
    tenant.domains += [TenantDomain(domain=d) for d in names if d not in before]
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise TenantConflict("one of the domains was just given to another tenant") from None
    audit.record(
        session,
        actor=actor,
        action="tenant.domains",
        tenant_slug=slug,
        data={"from": before, "to": names},
    )
    session.commit()
    return tenant


def do_issue_admin_invitation(engine: Engine, slug: str, *, actor: str) -> dict[str, Any]:
    """Issue (again) the invitation of the municipal admin named at the tenant's creation: a
    new one-time code replaces the previous one (which no longer works) and the invitation
    runs for its full lifetime from now. Returns the code, shown this once, and the portal
    path where the invited person accepts it. Audited.

    Raises `TenantNotFound`, or `TenantConflict` (not active yet, no admin named, accepted)."""
    from tenants.people.models import Member
    from tenants.people.services import invitation_expires_at, new_invitation_code

    if not is_valid_slug(slug):
        raise TenantNotFound(f"there is no tenant {slug!r}")
    with tenant_session(engine, slug) as session:
        tenant = tenant_by_slug(session, slug, lock=True)
        if tenant.status != TenantStatus.ACTIVE:
            raise TenantConflict(
                f"tenant {slug!r} is {tenant.status.value}; invite its admin once it is active"
            )
        if not tenant.admin_email:
            raise TenantConflict(f"tenant {slug!r} was created without a municipal admin (admin_email)")
        member = session.scalar(select(Member).where(Member.email == tenant.admin_email).with_for_update())
        if member is not None and member.accepted_at is not None:
            raise TenantConflict(
                f"{tenant.admin_email} accepted the invitation to {slug!r} on {member.accepted_at:%Y-%m-%d}"
            )
        code, digest = new_invitation_code()
        if member is None:
            member = Member(email=tenant.admin_email, display_name=tenant.admin_email, role="tenant_admin")
            session.add(member)
        member.invitation_hash = digest
        member.invited_at = clock.now()
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="member.invite",
            tenant_slug=slug,
            target=f"member:{member.id}",
            data={"email": member.email, "role": member.role, "issued_by": "ministry"},
        )
        session.commit()
        return {
            "email": member.email,
            "role": member.role,
            "code": code,
            "expires_at": invitation_expires_at(member),
            "accept_url": f"/t/{slug}/api/v1/invitations/{code}/accept",
            "view_url": f"/t/{slug}/api/v1/invitations/{code}",
        }


def do_retry_provisioning(session: Session, slug: str, *, queue: Queue | None = None, actor: str) -> Tenant:
    """Put a failed (or crashed, still `provisioning`) tenant back to `provisioning`, commit,
    and enqueue its job again on `queue` (it resumes at the failed step). Without a queue the
    caller runs the provisioning itself. Raises `TenantNotFound` or `TenantConflict`."""
    tenant = tenant_by_slug(session, slug, lock=True)
    if tenant.status not in (TenantStatus.FAILED, TenantStatus.PROVISIONING):
        raise TenantConflict(f"tenant {slug!r} is {tenant.status.value}, there is nothing to retry")
    tenant.status = TenantStatus.PROVISIONING
    if queue is not None:
        tenant.job_id = _enqueue_provisioning(session, queue, slug)
    audit.record(
        session, actor=actor, action="tenant.retry", tenant_slug=slug, data={"step": tenant.current_step}
    )
    session.commit()
    return tenant


def _enqueue_provisioning(session: Session, queue: Queue | None, slug: str) -> str | None:
    """The id of the provisioning job of `slug`, enqueued on `queue` once `session` commits
    (chosen now, so the tenant row names the job without a second write); None without a
    queue."""
    if queue is None:
        return None
    # Imported here: the jobs import the runner, which imports this module.
    from provisioning.jobs import JOB_TIMEOUT_SECONDS, new_job_id, provision_tenant

    job_id = new_job_id()
    enqueue_after_commit(
        session,
        queue,
        provision_tenant,
        slug,
        job_id=job_id,
        job_timeout=JOB_TIMEOUT_SECONDS,
        result_ttl=86400,
        failure_ttl=86400,
        description=f"provision t_{slug}",
    )
    return job_id


def _set_status(
    session: Session,
    slug: str,
    *,
    to: TenantStatus,
    allowed_from: TenantStatus,
    action: str,
    actor: str,
    reason: str | None,
) -> Tenant:
    tenant = tenant_by_slug(session, slug, lock=True)
    if tenant.status == to:
        return tenant  # idempotent: asking twice is not an error
    if tenant.status != allowed_from:
        raise TenantConflict(f"tenant {slug!r} is {tenant.status.value}, not {allowed_from.value}")
    tenant.status = to
    audit.record(session, actor=actor, action=action, tenant_slug=slug, data={"reason": reason})
    session.commit()
    return tenant


def do_suspend_tenant(session: Session, slug: str, *, actor: str, reason: str | None = None) -> Tenant:
    return _set_status(
        session,
        slug,
        to=TenantStatus.SUSPENDED,
        allowed_from=TenantStatus.ACTIVE,
        action="tenant.suspend",
        actor=actor,
        reason=reason,
    )


def do_resume_tenant(session: Session, slug: str, *, actor: str, reason: str | None = None) -> Tenant:
    return _set_status(
        session,
        slug,
        to=TenantStatus.ACTIVE,
        allowed_from=TenantStatus.SUSPENDED,
        action="tenant.resume",
        actor=actor,
        reason=reason,
    )


def do_delete_tenant_irreversibly(session: Session, slug: str, *, confirm: str, actor: str) -> None:
    """Drop the tenant's schema and its control-plane rows. `confirm` must repeat the slug.
    The audit trail keeps the record of the tenant and of its deletion."""
    if confirm != slug:
        raise ProvisioningRefused("to delete a tenant, confirm by typing its slug exactly")
    tenant = tenant_by_slug(session, slug, lock=True)
    drop_tenant_schema_irreversibly(session.connection(), slug)
    session.execute(delete(ProvisioningStep).where(ProvisioningStep.tenant_id == tenant.id))
    session.delete(tenant)
    audit.record(
        session,
        actor=actor,
        action="tenant.delete",
        tenant_slug=slug,
        data={"region_code": tenant.region_code},
    )
    session.commit()


def provisioning_steps(session: Session, tenant: Tenant) -> list[dict[str, Any]]:
    from provisioning.steps import STEP_NAMES

    rows = session.scalars(select(ProvisioningStep).where(ProvisioningStep.tenant_id == tenant.id))
    by_name = {row.step: row for row in rows}
    pending = {"status": "pending", "attempts": 0, "duration_ms": None, "error": None}
    return [
        {"step": name, **pending}
        if (row := by_name.get(name)) is None
        else {
            "step": name,
            "status": row.status,
            "attempts": row.attempts,
            "duration_ms": row.duration_ms,
            "error": row.error,
        }
        for name in STEP_NAMES
    ]


def _template_or_refuse(name: str, version: int | None) -> Template:
    try:
        return get_template(name, version)
    except TemplateNotFound as error:
        raise ProvisioningRefused(f"template: {error}", field="template") from None


def template_diff_for_tenant(session: Session, slug: str, version: int | None = None) -> dict[str, Any]:
    """What upgrading tenant `slug` to `version` (default: the latest) of its template would
    change, against the version recorded on the tenant."""
    tenant = tenant_by_slug(session, slug)
    current = _template_or_refuse(tenant.template_name, tenant.template_version)
    target = _template_or_refuse(tenant.template_name, version)
    return {
        "slug": slug,
        "template": tenant.template_name,
        "from_version": current.version,
        "to_version": target.version,
        "changes": [change.as_dict() for change in diff_template(current.data, target.data)],
    }


def do_upgrade_tenant_template(
    engine: Engine, slug: str, *, version: int | None = None, actor: str
) -> dict[str, Any]:
    """Apply a newer version of the tenant's template: new phases, categories and pages are
    added (existing ones, possibly edited by the municipality, are kept), portal settings
    take the new values, and the tenant records the new version. One transaction, audited.

    Raises `TenantNotFound`, `ProvisioningRefused` (unknown version) or `TenantConflict`
    (not active, or the version is not newer)."""
    from provisioning.steps import write_template

    if not is_valid_slug(slug):
        raise TenantNotFound(f"there is no tenant {slug!r}")
    with tenant_session(engine, slug) as session:
        tenant = tenant_by_slug(session, slug, lock=True)
        target = _template_or_refuse(tenant.template_name, version)
        if tenant.status not in (TenantStatus.ACTIVE, TenantStatus.SUSPENDED):
            raise TenantConflict(f"tenant {slug!r} is {tenant.status.value}; upgrade it once it is active")
        if target.version <= tenant.template_version:
            raise TenantConflict(
                f"tenant {slug!r} is at {tenant.template_name}@{tenant.template_version}; "
                f"version {target.version} is not newer"
            )
        previous = tenant.template_version
        added = write_template(session, tenant, target.data, target.version, replace_settings=True)
        tenant.template_version = target.version
        audit.record(
            session,
            actor=actor,
            action="tenant.template_upgrade",
            tenant_slug=slug,
            data={"template": tenant.template_name, "from": previous, "to": target.version, "added": added},
        )
        session.commit()
    return {
        "slug": slug,
        "template": target.name,
        "from_version": previous,
        "to_version": target.version,
        "added": added,
    }


def tenant_urls(settings: Any, slug: str, domains: list[str]) -> list[str]:
    """Where the portal answers: the path prefix (always), the platform host, custom domains."""
    urls = [f"{settings.base_url}/t/{slug}/api/v1/portal"]
    urls.append(f"http://{slug}.{settings.platform_domain}:{settings.port}/api/v1/portal")
    urls += [f"https://{d}/" for d in domains]
    return urls


def tenant_detail(session: Session, slug: str, *, settings: Any) -> dict[str, Any]:
    """The tenant, its provisioning steps, its URLs and the job to poll while provisioning.
    Raises `TenantNotFound`."""
    tenant = tenant_by_slug(session, slug)
    job = None
    if tenant.job_id and tenant.status == TenantStatus.PROVISIONING:
        job = {"id": tenant.job_id, "url": f"/api/v1/jobs/{tenant.job_id}"}
    return {
        "tenant": tenant,
        "steps": provisioning_steps(session, tenant),
        "urls": tenant_urls(settings, slug, [d.domain for d in tenant.domains]),
        "job": job,
    }


def find_regions(session: Session, query: str | None, *, limit: int, offset: int) -> dict[str, Any]:
    """A page of the onboardable municipalities matching `query` (see `regions.search`), each
    with the slug of its portal (None: not onboarded yet)."""
    found = regions.search(query)
    page = found[offset : offset + limit]
    codes = [g.adm_code10 for g in page]
    statement = select(Tenant.region_code, Tenant.slug).where(Tenant.region_code.in_(codes))
    portals: dict[str, str] = {code: slug for code, slug in session.execute(statement)}
    items = [
        {
            "sgg_code": g.sgg_code,
            "adm_code10": g.adm_code10,
            "name_ko": g.name_ko,
            "full_name_ko": g.full_name_ko,
            "name_en": g.name_en,
            "sido_name_ko": g.sido_name_ko,
            "unit_type": g.unit_type,
            "population": g.population,
            "portal": portals.get(g.adm_code10),
        }
        for g in page
    ]
    return {"total": len(found), "limit": limit, "offset": offset, "items": items}


@dataclass(frozen=True)
class Settled:
    """Where a provisioning ended: `status` active or failed (`step` and `error` say where
    and why), or None when the tenant was deleted meanwhile."""

    slug: str
    status: TenantStatus | None
    step: str | None
    error: str | None


def wait_until_settled(
    engine: Engine,
    slugs: Iterable[str],
    *,
    timeout: float,
    on_settled: Callable[[Settled], None] | None = None,
    poll_seconds: float = 0.1,
) -> dict[str, Settled]:
    """Wait until each tenant of `slugs` is active or failed (or deleted), for at most
    `timeout` seconds, reading the registry every `poll_seconds` on a connection of its own
    (so it sees what the workers commit). Returns those that settled, by slug; the others
    were still provisioning when the wait ended. `on_settled` is called for each as it
    settles (a progress bar's tick)."""
    pending = set(slugs)
    settled: dict[str, Settled] = {}
    deadline = time.monotonic() + timeout
    while pending:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Tenant.slug, Tenant.status, Tenant.current_step, Tenant.last_error).where(
                    Tenant.slug.in_(pending)
                )
            ).all()
        found = {row.slug: row for row in rows}
        for slug in sorted(pending):
            row = found.get(slug)
            if row is not None and row.status not in (TenantStatus.ACTIVE, TenantStatus.FAILED):
                continue
            outcome = (
                Settled(slug, None, None, None)
                if row is None
                else Settled(slug, row.status, row.current_step, row.last_error)
            )
            settled[slug] = outcome
            pending.discard(slug)
            if on_settled is not None:
                on_settled(outcome)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll_seconds)
    return settled
