"""Importing the job module (as the web app does, to enqueue) loads nothing for the worker."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_jobs_module_does_not_preload_the_templates():
    code = (
        "import provisioning.jobs\n"
        "from provisioning.templates import catalog\n"
        "print(catalog._default is None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr
