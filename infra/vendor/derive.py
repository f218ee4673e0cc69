"""Re-derive the vendored browser assets from the locked npm packages (package.json and
package-lock.json beside this file), and record their SHA-256 in `SHA256SUMS`.

    python -m infra.vendor.derive          # needs Node.js's npm and the registry; rewrites
                                           # saas/core/web/static/fonts/

`make up` never needs this: the derived files are committed. A test
(tests/web/test_vendored_assets.py) proves the committed files are the ones recorded.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FONTS = ROOT / "saas" / "core" / "web" / "static" / "fonts"

# (file inside node_modules, name it is served under): the KS X 1001 subsets (every Hangul
# syllable of everyday Korean, Latin, digits) of the two weights the pages use.
SUBSETS = "pretendard/dist/web/static/woff2-subset"
FILES = [
    (f"{SUBSETS}/Pretendard-Regular.subset.woff2", "Pretendard-Regular-1.3.9.woff2"),
    (f"{SUBSETS}/Pretendard-Bold.subset.woff2", "Pretendard-Bold-1.3.9.woff2"),
    ("pretendard/dist/LICENSE.txt", "Pretendard-LICENSE.txt"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_sums() -> dict[str, str]:
    sums = {}
    for line in (FONTS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.strip()] = digest
    return sums


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(HERE / "package.json", work)
        shutil.copy(HERE / "package-lock.json", work)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=work, check=True)  # noqa: S607 - npm from PATH
        FONTS.mkdir(parents=True, exist_ok=True)
        lines = []
        for source, name in FILES:
            shutil.copyfile(Path(work) / "node_modules" / source, FONTS / name)
            lines.append(f"{sha256(FONTS / name)}  {name}")
        (FONTS / "SHA256SUMS").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
