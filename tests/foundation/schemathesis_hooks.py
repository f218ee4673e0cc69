"""Hooks for the live schemathesis run (tests/foundation/test_schemathesis_live.py), loaded by
the command line from the `hooks` setting of its configuration file."""

from __future__ import annotations

from typing import Any

import schemathesis

# Path parameters the run's configuration fixes (to reach a real portal and cycle).
FIXED_PATH_PARAMETERS = {"slug", "cycle_id"}


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """Drop the coverage cases made to test a fixed path parameter: schemathesis 4.32 puts the
    configured value in after generating such a case, then still reports the case as invalid
    in that parameter (a valid request, accepted, is then a false 'schema-violating request
    accepted')."""
    phase = getattr(case.meta, "phase", None) if case.meta is not None else None
    data = getattr(phase, "data", None)
    parameter = getattr(data, "parameter", None)
    location = str(getattr(data, "parameter_location", "") or "").lower()
    return not (parameter in FIXED_PATH_PARAMETERS and location.endswith("path"))
