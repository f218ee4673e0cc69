"""Counting benchmark: our engine against pabutools on every shared pabulib file.

For each file: parsing time, then for each conformance rule our time and pabutools' time
(measured in the same run, the rule call alone: files already parsed), the ratio, and whether
the outcomes agree. pabutools runs in a child process with a timeout, since its add1 takes
minutes per city-size file (and does not finish on Budapest 2023).

    .venv/bin/python benchmarks/counting.py [--timeout 300] [--rules mes/cost/add1/greedy]
        [--files Poland_Warszawa_2026.pb ...] [--no-pabutools] [--write BENCHMARKS.md]

pabutools is GPL-3.0: a benchmark and test dependency only.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tenants.counting.pabulib import read_pabulib  # noqa: E402
from tenants.counting.rules import count  # noqa: E402
from tests.counting import pabutools_rules  # noqa: E402
from tests.counting.ours import spec_for  # noqa: E402
from tests.counting.paths import pabulib_dir  # noqa: E402


def pabutools_job(path: str, rule_ids: list[str], queue) -> None:
    start = time.perf_counter()
    instance, profile = pabutools_rules.load(path)
    queue.put(("parse", time.perf_counter() - start, None))
    for rule_id in rule_ids:
        start = time.perf_counter()
        selected = pabutools_rules.outcome(instance, profile, rule_id)
        queue.put((rule_id, time.perf_counter() - start, selected))


def run_pabutools(path: Path, rule_ids: list[str], timeout: float) -> dict:
    """rule id -> (seconds, selected); a rule cut by the timeout maps to (None, None)."""
    results: dict = {}
    todo = list(rule_ids)
    while todo:
        queue = multiprocessing.Queue()
        process = multiprocessing.Process(target=pabutools_job, args=(str(path), todo, queue))
        process.start()
        deadline = time.monotonic() + timeout
        current = ["parse", *todo]
        while process.is_alive() or not queue.empty():
            if not queue.empty():
                name, seconds, selected = queue.get()
                results[name] = (seconds, selected)
                current.remove(name)
                deadline = time.monotonic() + timeout
            elif time.monotonic() > deadline:
                process.terminate()
                break
            else:
                time.sleep(0.05)
        process.join()
        if current and current[0] != "parse":
            results[current[0]] = (None, None)  # timed out: skip it, go on with the rest
            todo = current[1:]
        else:
            todo = []
    return results


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{multiprocessing.cpu_count()} cores (`nproc`), {cpu}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", help="file names (default: all)")
    parser.add_argument("--rules", nargs="*", help="rule ids (default: all that apply)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds pabutools may take per step")
    parser.add_argument("--no-pabutools", action="store_true")
    parser.add_argument("--write", type=Path, help="replace the Counting section of this file")
    args = parser.parse_args()
    folder = pabulib_dir()
    if folder is None:
        sys.exit("no pabulib folder: set PABULIB_DIR")
    paths = sorted(folder.glob("*.pb"), key=lambda p: p.stat().st_size)
    if args.files:
        paths = [p for p in paths if p.name in args.files]
    rows = [
        "| file | rule | ours (s) | pabutools (s) | pabutools / ours | same outcome |",
        "|---|---|---:|---:|---:|---|",
    ]
    for path in paths:
        start = time.perf_counter()
        election = read_pabulib(path)
        parse = time.perf_counter() - start
        rule_ids = [
            r for r in pabutools_rules.rule_ids(election.vote_type) if not args.rules or r in args.rules
        ]
        theirs = {} if args.no_pabutools else run_pabutools(path, rule_ids, args.timeout)
        rows.append(row(path.name, "parse", parse, theirs.get("parse"), None))
        for rule_id in rule_ids:
            start = time.perf_counter()
            selected = count(election, spec_for(rule_id)).selected
            ours = time.perf_counter() - start
            rows.append(row(path.name, rule_id, ours, theirs.get(rule_id), selected))
            print(rows[-1], flush=True)
    table = "\n".join(rows)
    if args.write:
        write_section(args.write, table, args)
    else:
        print(table)


def row(name, rule_id, ours, theirs, selected) -> str:
    if theirs is None or theirs[0] is None:
        cut = "" if theirs is None else "did not finish"
        return f"| {name} | {rule_id} | {ours:.3f} | {cut} | | |"
    same = "" if selected is None else ("yes" if theirs[1] == selected else "**NO**")
    return f"| {name} | {rule_id} | {ours:.3f} | {theirs[0]:.3f} | {theirs[0] / ours:.1f}× | {same} |"


def write_section(target: Path, table: str, args) -> None:
    command = "`.venv/bin/python benchmarks/counting.py " + " ".join(sys.argv[1:]) + "`"
    section = (
        "## Counting\n\n"
        f"Machine: {machine()}.\n\n"
        f"Command: {command} (pabutools step timeout {args.timeout:.0f} s).\n\n"
        "Method: each file is parsed once by each side (parse row); then each rule is timed "
        "alone, on one core, ours and pabutools' in the same run (pabutools in a child "
        "process). Times are wall-clock seconds of a single run.\n\n" + table + "\n"
    )
    text = target.read_text() if target.exists() else "# Benchmarks\n"
    pattern = re.compile(r"## Counting\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    target.write_text(text)


if __name__ == "__main__":
    main()
