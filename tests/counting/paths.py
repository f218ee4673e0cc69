"""Where the shared pabulib files are: `PABULIB_DIR`, else `../shared/pabulib` beside the
repository. They have no licence, so they are read in place and never copied here."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def pabulib_dir() -> Path | None:
    folder = Path(os.environ.get("PABULIB_DIR") or REPO.parent / "shared" / "pabulib")
    return folder if folder.is_dir() and any(folder.glob("*.pb")) else None
