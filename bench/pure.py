"""Merge time of the pure-Python path (no python-calamine, rapidfuzz, python-docx/lxml) beside the full install.

    .venv/bin/python bench/pure.py                 # a W1-sized workload (1,000 returns), 3 rounds
    .venv/bin/python bench/pure.py --units 20 --runs 1

The pure path is this interpreter with the compiled packages made unimportable (a
``sitecustomize.py`` on PYTHONPATH binds their names to None in ``sys.modules``: exactly what
an install without them sees; tests/test_pure_python.py shows both give the same result.json).
Rounds alternate full and pure, so a noisy neighbour hits both alike. Prints medians and the
ratio pure/full; both runs' result.json are checked to be the same (run id, hashes and the
通报.docx notice aside).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(ROOT))

from make_workload import make_workload  # noqa: E402

COMPILED = ("python_calamine", "rapidfuzz", "docx", "lxml")
BLOCKER = "import sys\nfor _n in %r:\n    sys.modules[_n] = None\n" % (COMPILED,)
DOCX_MISSING = "未安装 python-docx，未生成通报.docx"


def _comparable(node):
    if isinstance(node, dict):
        return {k: _comparable(v) for k, v in node.items() if k not in ("run_id", "run_files")}
    if isinstance(node, list):
        return [_comparable(v) for v in node if not (isinstance(v, dict) and v.get("message") == DOCX_MISSING)]
    return node


def _run(workdir: Path, env: dict) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "zg_excel", "merge", "-q", "-w", str(workdir), "--year", "2026",
           "--as-of", "2026-12-31"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"merge failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return took, json.loads((workdir / "output" / "result.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--months", type=int, default=10)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--subs", type=int, default=12)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)

    work = OUT / f"pure-u{args.units}-m{args.months}-e{args.events}-s{args.subs}"
    make_workload(work, units=args.units, months=args.months, events=args.events, subs=args.subs, seed=1,
                  year=2026, quiet=True)
    base = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory() as hook:
        Path(hook, "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
        pure = dict(base, PYTHONPATH=os.pathsep.join([hook, base["PYTHONPATH"]]))
        times: dict[str, list[float]] = {"full": [], "pure": []}
        results = {}
        for _ in range(args.runs):
            for label, env in (("full", base), ("pure", pure)):
                took, results[label] = _run(work, env)
                times[label].append(took)
    same = _comparable(results["full"]) == _comparable(results["pure"])
    full, pure_s = statistics.median(times["full"]), statistics.median(times["pure"])
    files = len(list((work / "inbox").glob("*.xlsx")))
    print(f"workload: {files} returns ({args.units} units x {args.months} months, {args.events}+{args.subs} rows)")
    print(f"merge, full install (calamine, rapidfuzz, docx): {full:.2f} s (median of {args.runs})")
    print(f"merge, pure Python (openpyxl, fuzzy.py, no .docx): {pure_s:.2f} s")
    print(f"ratio pure/full: {pure_s / full:.2f}; same result.json: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
