"""Fixtures of the provisioning tests: running queued jobs in-process, a catalog with a
newer template version, and unique slugs."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
import yaml

_numbers = itertools.count(1)


@pytest.fixture
def new_slug():
    """A fresh slug per call, unique within the test session."""

    def make(prefix: str = "p") -> str:
        return f"{prefix}{next(_numbers)}"

    return make


@pytest.fixture
def run_queued_jobs(app, jobs_run_here):
    """Run what the provisioning queue holds, here and now (a burst of an in-process worker
    on the test database), and return how many jobs ran."""
    from rq import SimpleWorker

    from saas.core.extensions import queues

    def run() -> int:
        queue = queues.get("provisioning")
        pending = queue.count
        SimpleWorker([queue], connection=queues.connection).work(burst=True, logging_level="WARNING")
        return pending

    return run


@pytest.fixture
def catalog_with_newer_neighbourhood(tmp_path: Path, monkeypatch):
    """The shipped templates plus `neighbourhood@2`: one more category, one more page and a
    longer proposal phase."""
    from provisioning.templates import catalog

    root = catalog.DEFAULT_ROOT
    for file in root.glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    data = yaml.safe_load((root / "neighbourhood@1.yaml").read_text(encoding="utf-8"))
    data["version"] = 2
    data["categories"].append({"key": "climate", "name": {"ko": "기후", "en": "Climate"}})
    page = dict(data["pages"][0], key="climate_notice")
    data["pages"].append(page)
    data["phases"][0]["days"] += 7
    (tmp_path / "neighbourhood@2.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(catalog, "_default", catalog.Catalog(tmp_path))
    return data
