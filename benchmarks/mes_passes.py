"""MES passes alone, for measurements finer than a whole add1 count.

    .venv/bin/python benchmarks/mes_passes.py [--file Poland_Warszawa_2021_Mokotow.pb]
        [--k 40 100 160] [--only-prepare] [--engine CHECKOUT] [--machine]

Parses the file and prepares it (not timed), then runs one plain pass (no tracking, no
rejection reasons) at each endowment step k and prints the CPU time. Under
`valgrind --tool=callgrind`, the difference between a run and one with `--only-prepare` is the
passes' instruction count, which does not depend on what else the machine is doing.
`--engine` counts with another checkout's engine (e.g. a `git worktree` of an older commit),
`--machine` times a plain 10-million-step Python loop, to compare machines.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def engine(checkout: Path):
    """prepare and run_mes of the engine in `checkout` (older commits kept both in mes_rounds
    and had no `explain`)."""
    sys.path.insert(0, str(checkout))
    from tenants.counting import mes_rounds

    try:
        from tenants.counting.mes_prepare import prepare
    except ImportError:
        prepare = mes_rounds.prepare
    explains = "explain" in mes_rounds.run_mes.__code__.co_varnames
    return prepare, lambda prep, k: mes_rounds.run_mes(prep, k, **({"explain": False} if explains else {}))


def python_loop_seconds() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="Poland_Warszawa_2021_Mokotow.pb")
    parser.add_argument("--k", type=int, nargs="*", default=[40, 100, 160])
    parser.add_argument("--only-prepare", action="store_true")
    parser.add_argument("--engine", type=Path, default=REPO)
    parser.add_argument("--machine", action="store_true")
    args = parser.parse_args()
    if args.machine:
        print(f"10-million-step Python loop: {python_loop_seconds():.2f} s")
        return
    prepare, run_mes = engine(args.engine.resolve())
    from tenants.counting.pabulib import read_pabulib
    from tenants.counting.satisfaction import voter_groups
    from tenants.counting.tiebreak import tie_key
    from tests.counting.paths import pabulib_dir

    folder = pabulib_dir()
    if folder is None:
        sys.exit("no pabulib folder: set PABULIB_DIR")
    election = read_pabulib(folder / args.file)
    prep = prepare(election, voter_groups(election, "cost"), tie_key(election, "id"))
    if args.only_prepare:
        return
    for k in args.k:
        start = time.process_time()
        run = run_mes(prep, k)
        print(f"k={k}: {time.process_time() - start:.3f} s CPU, {len(run.order)} funded")


if __name__ == "__main__":
    main()
