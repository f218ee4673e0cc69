"""Alembic migrations, two tracks: `control` (the control schema) and `tenant` (every tenant schema)."""

from pathlib import Path

CONTROL_DIR = Path(__file__).parent / "control"
TENANT_DIR = Path(__file__).parent / "tenant"
