"""Onboarding many municipalities from one CSV: register each row, provision them all
(by the queue's workers, or here), and name every row that was refused or failed."""

from __future__ import annotations

import csv
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tqdm import tqdm

from provisioning.errors import ProvisioningRefused, TenantConflict
from provisioning.lifecycle import Settled, do_register_tenant, wait_until_settled
from provisioning.runner import FaultHook, run_provisioning
from saas.core.registry.models import TenantStatus

REQUIRED_COLUMNS = ("slug", "region", "template")
OPTIONAL_COLUMNS = ("name", "domain", "admin_email")
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class OnboardingRow:
    line: int
    slug: str
    region: str
    template: str
    name: str | None = None
    domain: str | None = None
    admin_email: str | None = None


@dataclass
class OnboardingReport:
    requested: int
    active: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # "line N slug" -> why
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"{len(self.active)} of {self.requested} tenant(s) active in {self.seconds:.1f} s; "
            f"{len(self.problems)} refused or failed"
        ]
        lines += [f"  {where}: {why}" for where, why in sorted(self.problems.items())]
        return "\n".join(lines)


def read_onboarding_csv(file: IO[str]) -> list[OnboardingRow]:
    """Rows of a CSV with a header; raises ValueError for missing or unknown columns."""
    reader = csv.DictReader(file)
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        raise ValueError(
            f"the CSV needs the columns {','.join(REQUIRED_COLUMNS)}[,{','.join(OPTIONAL_COLUMNS)}]"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    rows = []
    for line, raw in enumerate(reader, start=2):
        values = {k.strip(): (v or "").strip() or None for k, v in raw.items() if k}
        fields: dict[str, Any] = {
            **{k: values.get(k) or "" for k in REQUIRED_COLUMNS},
            **{k: values.get(k) for k in OPTIONAL_COLUMNS},
        }
        rows.append(OnboardingRow(line=line, **fields))
    return rows


def _progress(total: int) -> Any:
    return tqdm(total=total, unit="tenant", file=sys.stderr, dynamic_ncols=True, mininterval=0.5)


def onboard_many(
    engine: Engine,
    session: Session,
    rows: list[OnboardingRow],
    *,
    queue: Any = None,
    timeout: float = 1800.0,
    actor: str = "cli",
    fault: FaultHook | None = None,
    platform_domain: str,
) -> OnboardingReport:
    """Register every row, then provision: jobs on `queue` (waited for) or, when None,
    one after the other in this process (`fault` is passed to the runner, for tests). A row
    is refused as registration refuses it: a municipality that has a portal (also one an
    earlier row of the file just registered), a domain under `platform_domain`, ..."""
    started = time.perf_counter()
    report = OnboardingReport(requested=len(rows))
    registered: dict[str, str] = {}  # slug -> where
    for row in rows:
        where = f"line {row.line} {row.slug}"
        try:
            do_register_tenant(
                session,
                slug=row.slug,
                region_code=row.region,
                template=row.template,
                name=row.name,
                domains=[row.domain] if row.domain else [],
                admin_email=row.admin_email,
                queue=queue,
                platform_domain=platform_domain,
                actor=actor,
            )
        except (ProvisioningRefused, TenantConflict) as error:
            session.rollback()
            report.problems[where] = str(error)
            continue
        registered[row.slug] = where
    with _progress(len(registered)) as bar:
        if queue is None:
            for slug, where in registered.items():
                outcome = run_provisioning(engine, slug, fault=fault)
                if outcome.status == TenantStatus.ACTIVE:
                    report.active.append(slug)
                else:
                    report.problems[where] = f"failed at {outcome.failed_step}: {outcome.error}"
                bar.update()
        else:
            _wait_for_jobs(engine, registered, report, bar, timeout=timeout)
    report.seconds = time.perf_counter() - started
    return report


def _wait_for_jobs(
    engine: Engine, registered: dict[str, str], report: OnboardingReport, bar: Any, *, timeout: float
) -> None:
    def settle(outcome: Settled) -> None:
        if outcome.status == TenantStatus.ACTIVE:
            report.active.append(outcome.slug)
        elif outcome.status is None:
            report.problems[registered[outcome.slug]] = "deleted while provisioning"
        else:
            report.problems[registered[outcome.slug]] = f"failed at {outcome.step}: {outcome.error}"
        bar.update()

    settled = wait_until_settled(
        engine, registered, timeout=timeout, on_settled=settle, poll_seconds=_POLL_SECONDS
    )
    for slug in registered.keys() - settled.keys():
        report.problems[registered[slug]] = "still provisioning when the wait ended"
