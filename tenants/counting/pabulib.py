"""Read and write the pabulib `.pb` format (https://pabulib.org/format).

A file has three sections, META, PROJECTS and VOTES, each followed by a header row; fields are
`;`-separated CSV. Reading groups identical ballots as it goes (a city-wide file has 100k+
voters but far fewer distinct ballots), and every problem is reported as a `PabulibError`
naming the line, never as a traceback.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

from tenants.counting.election import (
    APPROVAL,
    CHOOSE_ONE,
    CUMULATIVE,
    ORDINAL,
    SCORING,
    VOTE_TYPES,
    Ballot,
    Election,
    Project,
    canonical,
    format_number,
)
from tenants.counting.gc_pause import cyclic_gc_paused

SECTIONS = ("meta", "projects", "votes")


class PabulibError(ValueError):
    """A malformed pabulib file. `line` is 1-based (0 when the problem is the whole file)."""

    def __init__(self, line: int, problem: str):
        super().__init__(f"line {line}: {problem}" if line else problem)
        self.line = line
        self.problem = problem


def read_pabulib(path: str | Path) -> Election:
    try:
        # utf-8-sig: accept a byte-order mark, as pabutools does.
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PabulibError(0, f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise PabulibError(0, f"{path}: {exc.strerror or exc}") from None
    return parse_pabulib(text)


def parse_number(text: str, what: str, line: int) -> Fraction:
    try:
        # pabulib files from some countries write a decimal comma.
        return Fraction(text.strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise PabulibError(line, f"{what} {text!r} is not a number") from None


@cyclic_gc_paused()
def parse_pabulib(text: str) -> Election:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    meta: dict[str, str] = {}
    projects: dict[str, Project] = {}
    project_columns: list[str] = []
    vote_columns: list[str] = []
    vote_rows: list[list[str]] = []
    header: list[str] = []
    section = ""
    seen_sections: set[str] = set()
    ballot_at: dict[tuple[str, str], int] = {}
    distinct_at: dict[Ballot, int] = {}
    ballots: list[Ballot] = []
    counts: list[int] = []
    vote_col = points_col = -1
    vote_type = ""
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            first = row[0].strip().lower()
            if first in SECTIONS and len(row) == 1:
                if first in seen_sections:
                    raise PabulibError(line, f"section {first.upper()} appears twice")
                section = first
                seen_sections.add(section)
                header = [h.strip() for h in next(reader, [])]
                if section == "projects":
                    if "project_id" not in header or "cost" not in header:
                        raise PabulibError(
                            reader.line_num, "PROJECTS header needs project_id and cost columns"
                        )
                    project_columns = header
                elif section == "votes":
                    vote_type = check_meta(meta, projects, reader.line_num)
                    if "vote" not in header:
                        raise PabulibError(reader.line_num, "VOTES header has no vote column")
                    vote_columns = header
                    vote_col = header.index("vote")
                    points_col = header.index("points") if "points" in header else -1
                    if vote_type in (CUMULATIVE, SCORING) and points_col < 0:
                        raise PabulibError(
                            reader.line_num, f"{vote_type} VOTES header has no points column"
                        )
                continue
            if not section:
                raise PabulibError(line, "content before the META section")
            if section == "meta":
                if len(row) < 2:
                    raise PabulibError(line, "META row needs a key and a value")
                meta[row[0].strip()] = row[1].strip()
            elif section == "projects":
                project = read_project(row, header, line)
                if project.id in projects:
                    raise PabulibError(line, f"project {project.id!r} is listed twice")
                projects[project.id] = project
            else:
                if len(row) <= max(vote_col, points_col):
                    raise PabulibError(
                        line, f"VOTES row has {len(row)} fields, the header has {len(header)}"
                    )
                vote = row[vote_col]
                points = row[points_col] if points_col >= 0 else ""
                key = (vote, points)
                at = ballot_at.get(key)
                if at is None:
                    ballot = canonical(
                        read_ballot(vote, points, vote_type, projects, line), vote_type
                    )
                    at = distinct_at.get(ballot)
                    if at is None:
                        at = distinct_at[ballot] = len(ballots)
                        ballots.append(ballot)
                        counts.append(0)
                    ballot_at[key] = at
                counts[at] += 1
                vote_rows.append(row)
    except csv.Error as exc:
        raise PabulibError(reader.line_num, f"bad CSV: {exc}") from None
    for name in SECTIONS:
        if name not in seen_sections:
            raise PabulibError(0, f"no {name.upper()} section")
    budget = parse_number(meta["budget"], "budget", 0)
    return Election(
        meta, projects, budget, vote_type, ballots, counts,
        project_columns, vote_columns, vote_rows,
    )


def check_meta(meta: dict[str, str], projects: dict[str, Project], line: int) -> str:
    for key in ("vote_type", "budget"):
        if key not in meta:
            raise PabulibError(line, f"META has no {key}")
    vote_type = meta["vote_type"].strip().lower()
    if vote_type not in VOTE_TYPES:
        raise PabulibError(line, f"unknown vote_type {meta['vote_type']!r}")
    parse_number(meta["budget"], "budget", line)
    if not projects:
        raise PabulibError(line, "VOTES before any project")
    return vote_type


def read_project(row: list[str], header: list[str], line: int) -> Project:
    if len(row) < 2:
        raise PabulibError(line, "PROJECTS row needs at least project_id and cost")
    fields = {key: value.strip() for key, value in zip(header, row, strict=False)}
    pid = fields.get("project_id", "")
    if not pid:
        raise PabulibError(line, "project with an empty project_id")
    cost = parse_number(fields.get("cost", ""), f"cost of project {pid!r}", line)
    if cost < 0:
        raise PabulibError(line, f"project {pid!r} has a negative cost")
    return Project(pid, cost, fields)


def read_ballot(
    vote: str, points: str, vote_type: str, projects: dict[str, Project], line: int
) -> Ballot:
    ids = tuple(p.strip() for p in vote.split(",") if p.strip())
    if len(ids) == 1 and ids[0].lower() == "none":
        ids = ()
    for pid in ids:
        if pid not in projects:
            raise PabulibError(line, f"vote names unknown project {pid!r}")
    if vote_type in (APPROVAL, CHOOSE_ONE, ORDINAL):
        return Ballot(ids)
    raw = [p.strip() for p in points.split(",") if p.strip()] if ids else []
    if len(raw) != len(ids):
        raise PabulibError(line, f"{len(ids)} projects but {len(raw)} points")
    return Ballot(ids, tuple(as_int_if_whole(parse_number(p, "points", line)) for p in raw))


def as_int_if_whole(value: Fraction) -> int | Fraction:
    # Points are almost always whole: plain ints make city-wide sums many times faster.
    return value.numerator if value.denominator == 1 else value


def write_pabulib(election: Election) -> str:
    """The election as a pabulib file. Raw VOTES rows are written back when the election was
    read from a file; otherwise one row per voter is generated from the grouped ballots."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    meta = dict(election.meta)
    meta["budget"] = format_number(election.budget)
    meta["vote_type"] = election.vote_type
    meta["num_projects"] = str(len(election.projects))
    meta["num_votes"] = str(election.voter_count)
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in meta.items():
        writer.writerow([key, value])
    columns = election.project_columns or ["project_id", "cost", "name"]
    writer.writerow(["PROJECTS"])
    writer.writerow(columns)
    for project in election.projects.values():
        values = dict(project.fields, project_id=project.id, cost=format_number(project.cost))
        writer.writerow([values.get(c, "") for c in columns])
    writer.writerow(["VOTES"])
    if election.vote_rows and len(election.vote_rows) == election.voter_count:
        writer.writerow(election.vote_columns)
        writer.writerows(election.vote_rows)
        return out.getvalue()
    with_points = election.vote_type in (CUMULATIVE, SCORING)
    writer.writerow(["voter_id", "vote", "points"] if with_points else ["voter_id", "vote"])
    voter = 0
    for ballot, count in zip(election.ballots, election.counts, strict=True):
        row = [",".join(ballot.projects)]
        if with_points:
            row.append(",".join(format_number(p) for p in ballot.points))
        for _ in range(count):
            voter += 1
            writer.writerow([str(voter), *row])
    return out.getvalue()
