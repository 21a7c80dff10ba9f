"""``result.json``: the machine-readable result of a merge, for other programs.

Every points value is a fixed-point string rounded once, half up
(``text.round_half_up``); the keys are a stable contract (tests/test_result_contract.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..text import round_half_up
from ..files import atomic_open

if TYPE_CHECKING:
    from ..result import Result


def result_dict(result: Result, *, issues: bool = True) -> dict:
    """The contract's keys (and a few more), from the ``Result`` only.

    ``issues=False`` leaves the list of issues out (``write_result_json`` streams it).
    """
    places = result.rules.places
    units = []
    for t in result.units:
        units.append({
            "unit": t.unit,
            "category": t.category,
            "returned": t.returned,
            "points": str(round_half_up(t.points, places)),
            "credit": str(round_half_up(t.credit, places)),
            "total": str(round_half_up(t.total, places)),
            "submissions_by_month": {str(m): n for m, n in t.submissions_by_month.items()},
            "submissions_in_progress": t.submissions_in_progress,  # count so far of in_progress_month
            "submissions_year": t.submissions_year,
            "provincial_org_adoptions": t.provincial_org_adoptions,
            "short_months": list(t.short_months),
            "targets": dict(t.targets),
            "annual_target": str(round_half_up(t.annual_target, places)),
            "prorated_target": str(round_half_up(t.prorated_target, places)),
            "rank": t.rank,
            "adoptions_by_level": dict(t.adoptions_by_level),
            "files": list(t.files),
            # files that named this unit but are not spreadsheets (a .doc/.wps sent instead of the return)
            "received_non_spreadsheet": list(t.received_non_spreadsheet),
        })
    return {
        "year": result.year,
        "as_of": result.as_of.isoformat(),
        "final": result.final,
        "in_progress_month": result.period.in_progress_month,  # the as-of month, not judged (进行中)
        "units": units,
        "rows": result.rows,
        "submission_rows": result.submission_rows,
        "files": [{"file": f.relpath, "status": f.status, "unit": f.unit, "format": f.format,
                   "events": f.events, "submissions": f.submissions, "message": f.message}
                  for f in result.files],
        "issues": [i.to_json() for i in result.issues.sorted()] if issues else None,
        "previous": _previous(result, places),
    }


def _previous(result: Result, places: int) -> dict | None:
    p = result.previous
    if p is None:
        return None
    return {"as_of": p.as_of.isoformat(), "label": p.label,
            "units": {u.unit: {"total": str(round_half_up(u.total, places)), "rank": u.rank} for u in p.units.values()}}


def write_result_json(result: Result, path: Path, *, files: dict[str, str] | None = None) -> Path:
    """``result_dict`` as indented UTF-8 JSON; the issues (one per problem row: a city has hundreds of
    thousands) are encoded one at a time rather than built into one list and one string.

    The run's id (``run_id``) comes first and, with ``files`` (name → sha256 of the run's other plain
    outputs, 通报.txt), ``run_files``: ``mail`` checks that what it sends belongs to one run."""
    data = {"run_id": result.run_id, **({"run_files": files} if files else {}), **result_dict(result, issues=False)}

    def dumps(value, level: int) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)

    with atomic_open(Path(path)) as fh:
        fh.write("{")
        for n, (key, value) in enumerate(data.items()):
            fh.write(("," if n else "") + f"\n  {json.dumps(key)}: ")
            if key != "issues":
                fh.write(dumps(value, 1))
                continue
            first = True
            for issue in result.issues.sorted():
                fh.write(("[" if first else ",") + "\n    " + dumps(issue.to_json(), 2))
                first = False
            fh.write("[]" if first else "\n  ]")
        fh.write("\n}\n")
    return Path(path)
