"""The platform's one clock: product code reads no other, the calendar is Korean, tests move it."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from saas.core import clock
from tests.conftest import ROOT

PRODUCT = ("saas", "tenants", "provisioning")
# Calls that read the wall clock, as `module.attribute` or `Class.attribute`.
WALL_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("datetime", "today"),
              ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime")}  # fmt: skip


def _wall_clock_reads(path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if (name, node.func.attr) in WALL_CLOCK:
                lines.append(node.lineno)
    return lines


def test_product_code_reads_time_only_through_the_platform_clock():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in PRODUCT
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != ROOT / "saas" / "core" / "clock.py"
        for line in _wall_clock_reads(path)
    ]
    assert offenders == []


def test_the_scan_finds_a_planted_wall_clock_read(tmp_path):
    planted = tmp_path / "planted.py"
    # The call is spelt in two pieces so that a text search for wall-clock reads in the tests
    # does not take this planted one for a real one.
    planted.write_text("import time\nfrom datetime import date\nx = date." + "today()\ny = time.time()\n")
    assert _wall_clock_reads(planted) == [3, 4]


def test_the_calendar_day_is_the_korean_one():
    # 15:30 UTC on 31 December is 00:30 on 1 January in Seoul.
    with clock.frozen(datetime(2026, 12, 31, 15, 30, tzinfo=UTC)):
        assert clock.today() == date(2027, 1, 1)
        assert clock.now() == datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
        assert clock.timestamp() == datetime(2026, 12, 31, 15, 30, tzinfo=UTC).timestamp()
    with clock.frozen(datetime(2026, 12, 31, 14, 59, tzinfo=UTC)):
        assert clock.today() == date(2026, 12, 31)


def test_an_injected_source_is_used_until_it_is_taken_back():
    moment = datetime(2028, 2, 29, 12, tzinfo=clock.SEOUL)
    clock.use(lambda: moment)
    try:
        assert clock.now() == moment and clock.now().tzinfo == UTC and clock.today() == date(2028, 2, 29)
    finally:
        clock.use(None)
    assert clock.now() != moment
    with pytest.raises(ValueError, match="aware"), clock.frozen(datetime(2028, 1, 1)):
        pass


def test_time_machine_moves_the_platform_clock():
    with time_machine.travel(datetime(2027, 1, 1, 0, 0, tzinfo=clock.SEOUL), tick=False):
        assert clock.today() == date(2027, 1, 1)
        assert clock.now() == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)


@pytest.mark.calendar
def test_the_clock_option_sets_the_moment_each_test_starts_at(request):
    raw = request.config.getoption("--clock")
    if not raw:
        pytest.skip("runs with --clock (CI's hard days)")
    elapsed = clock.now() - datetime.fromisoformat(raw)
    assert timedelta(0) <= elapsed < timedelta(seconds=5)
