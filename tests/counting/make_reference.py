"""Compute pabutools' outcomes on every shared pabulib file and cache them.

pabutools needs minutes per file for MES with add1 (hours for Budapest 2023), far too slow
for the test suite, so tests compare against this cache and check that its file hashes still
match the files. Regenerate after the files or pabutools change:

    .venv/bin/python tests/counting/make_reference.py [--jobs 2] [--timeout 3600]
        [--retry-errors] [FILE ...]

Each computation runs in its own process with a timeout; one that times out is recorded as
such (tests then skip it, saying so). Results are written after each computation, so an
interrupted run keeps what it finished; a re-run only computes what is missing or stale.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import multiprocessing
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.counting.paths import pabulib_dir  # noqa: E402

REFERENCE = HERE / "reference" / "pabutools_outcomes.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vote_type(path: Path) -> str:
    with path.open(encoding="utf-8-sig") as f:
        for line in f:
            if line.startswith("vote_type;"):
                return line.split(";")[1].strip()
    raise ValueError(f"{path}: no vote_type")


def compute(path: str, rule_id: str, queue) -> None:
    from tests.counting import pabutools_rules

    instance, profile = pabutools_rules.load(path)
    start = time.perf_counter()
    selected = pabutools_rules.outcome(instance, profile, rule_id)
    queue.put({"selected": selected, "seconds": round(time.perf_counter() - start, 3)})


def load_reference() -> dict:
    if REFERENCE.exists():
        return json.loads(REFERENCE.read_text())
    return {}


def save(reference: dict) -> None:
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    partial = REFERENCE.with_suffix(".partial")
    partial.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    partial.replace(REFERENCE)  # readers never see a half-written file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="file names (default: every .pb file)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per computation")
    parser.add_argument("--retry-errors", action="store_true",
                        help="compute again what timed out or failed before")
    args = parser.parse_args()
    folder = pabulib_dir()
    if folder is None:
        sys.exit("no pabulib folder: set PABULIB_DIR")
    version = importlib.metadata.version("pabutools")
    reference = load_reference()
    if reference.get("pabutools_version") != version:
        reference = {"pabutools_version": version, "files": {}}
    paths = sorted(folder.glob("*.pb"), key=lambda p: p.stat().st_size)
    if args.files:
        paths = [p for p in paths if p.name in args.files]
    todo = []
    for path in paths:
        entry = reference["files"].get(path.name)
        digest = sha256(path)
        if entry is None or entry["sha256"] != digest:
            entry = reference["files"][path.name] = {"sha256": digest, "outcomes": {}}
        for rule_id in pabutools_rules_ids(path):
            done = entry["outcomes"].get(rule_id)
            if done is None or (args.retry_errors and "error" in done):
                todo.append((path, rule_id))
    save(reference)
    # Quick rules on every file first; add1 last, smallest files first.
    todo.sort(key=lambda t: ("add1" in t[1], t[0].stat().st_size))
    running: list[tuple] = []
    while todo or running:
        while todo and len(running) < args.jobs:
            path, rule_id = todo.pop(0)
            queue = multiprocessing.Queue()
            process = multiprocessing.Process(target=compute, args=(str(path), rule_id, queue))
            process.start()
            running.append((path, rule_id, process, queue, time.monotonic()))
        time.sleep(0.2)
        for item in list(running):
            path, rule_id, process, queue, started = item
            result = None
            if not queue.empty():
                result = queue.get()
                process.join()
            elif not process.is_alive():
                result = {"error": f"pabutools failed (exit code {process.exitcode})"}
            elif time.monotonic() - started > args.timeout:
                process.terminate()
                process.join()
                result = {"error": f"pabutools did not finish within {args.timeout:.0f} s"}
            if result is not None:
                running.remove(item)
                reference["files"][path.name]["outcomes"][rule_id] = result
                save(reference)
                print(path.name, rule_id, result.get("seconds", result.get("error")), flush=True)


def pabutools_rules_ids(path: Path) -> list[str]:
    from tests.counting import pabutools_rules

    return pabutools_rules.rule_ids(vote_type(path))


if __name__ == "__main__":
    main()
