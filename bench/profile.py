"""Where the time of `zg-excel merge` goes: stage timers and a py-spy profile (numbers for bench/PROFILE.md).

    .venv/bin/python bench/profile.py                 # W1 (bench/out/w1, generated if missing)
    .venv/bin/python bench/profile.py bench/out/w5    # any working folder
    .venv/bin/python bench/profile.py --no-pyspy      # stage timers only

1. Stage timers: the merge runs in a child process with timers wrapped around
   the pipeline's functions (reading, read_return, versions, scoring, tally,
   each summary sheet, bulletin text, .docx, result.json, …), found by name
   so the code under test is not edited. Wall seconds, inclusive.
2. py-spy (``pip install py-spy``) samples the merge and its reader workers
   (``--subprocesses``, CPU samples only); samples are attributed to the same
   stages, and the top functions (file:line) of each stage are listed.

Writes bench/out/profile/{stages.json,pyspy.txt,report.md} and prints the report.
"""

from __future__ import annotations

import argparse
import collections
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "profile"
PY = sys.executable
MERGE_ARGS = ["merge", "--year", "2026", "--as-of", "2026-12-31", "-q"]

# (module, attribute) pairs wrapped with a timer; missing ones are skipped.
TIMED = [
    ("zg_excel.workspace", "Workspace.load"),
    ("zg_excel.merge", "merge"),
    ("zg_excel.intake.worker", "read_books"),
    ("zg_excel.merge", "score_books"),
    ("zg_excel.merge", "read_return"),
    ("zg_excel.merge", "resolve_versions"),
    ("zg_excel.merge", "mark_duplicates"),
    ("zg_excel.merge", "score_event"),
    ("zg_excel.merge", "tally"),
    ("zg_excel.outputs.write", "write_outputs"),
    ("zg_excel.outputs.write", "*"),  # every function write_outputs calls
    ("zg_excel.outputs.summary", "(book, result)"),  # every sheet writer
    ("zg_excel.outputs.summary", "_Book.close"),
    ("zg_excel.outputs.docx_bulletin", "write_bulletin_docx"),
    ("zg_excel.commands.merge", "render_merge_summary"),
]
# merge.py's own imports from the package are timed too (new pipeline steps show up by themselves).


# ------------------------------------------------------------------ child: stage timers

def _child(workdir: str, out_json: str) -> None:
    t_start = time.perf_counter()
    import importlib

    acc: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0])
    order: list[str] = []

    import resource

    page = os.sysconf("SC_PAGE_SIZE")
    mem: dict[str, list[float]] = {}

    def rss_mb() -> float:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * page / 2**20

    def add(label: str, dt_: float) -> None:
        if label not in acc:
            order.append(label)
        a = acc[label]
        a[0] += dt_
        a[1] += 1
        if a[1] <= 3 or a[1] % 1000 == 0 or dt_ > 0.05:  # RSS after the call, and the peak so far
            mem[label] = [rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]

    def wrap(label: str, f):
        if inspect.isgeneratorfunction(f):
            def g(*a, **k):
                it = f(*a, **k)
                while True:
                    t = time.perf_counter()
                    try:
                        x = next(it)
                    except StopIteration:
                        add(label, time.perf_counter() - t)
                        return
                    add(label, time.perf_counter() - t)
                    yield x
            g.__wrapped__ = f
            return g

        def w(*a, **k):
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                add(label, time.perf_counter() - t)
        w.__wrapped__ = f
        return w

    from zg_excel import cli  # noqa: F401  (import cost is its own stage)
    import zg_excel.merge as merge_mod

    t_imported = time.perf_counter()
    wrapped = set()

    def patch(mod_name: str, attr: str) -> None:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            return
        short = mod_name.replace("zg_excel.", "")
        if attr == "*":
            names = [n for n, v in vars(mod).items() if inspect.isfunction(v)
                     and getattr(v, "__module__", "").startswith("zg_excel.") and n != "write_outputs"]
        elif attr == "(book, result)":
            names = [n for n, v in vars(mod).items() if inspect.isfunction(v) and v.__module__ == mod_name
                     and list(inspect.signature(v).parameters)[:2] == ["book", "result"]]
        else:
            names = [attr]
        for n in names:
            owner, name = mod, n
            if "." in n:
                cls, name = n.split(".", 1)
                owner = getattr(mod, cls, None)
                if owner is None:
                    continue
            f = getattr(owner, name, None)
            if f is None or (id(owner), name) in wrapped:
                continue
            src = getattr(f, "__module__", mod_name).replace("zg_excel.", "")
            setattr(owner, name, wrap(f"{src}.{n}" if src != short else f"{short}.{n}", f))
            wrapped.add((id(owner), name))

    for mod_name, attr in TIMED:
        patch(mod_name, attr)
    for n, v in list(vars(merge_mod).items()):  # the rest of what merge.py imported from the package
        if inspect.isfunction(v) and v.__module__.startswith("zg_excel.") and v.__module__ != "zg_excel.merge":
            patch("zg_excel.merge", n)

    rc = 0
    t_main = time.perf_counter()
    try:
        cli.main(["merge", "-w", workdir, *MERGE_ARGS[1:]])
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 0
    t_end = time.perf_counter()
    stages = [{"stage": k, "seconds": acc[k][0], "calls": acc[k][1], "rss_after_mb": mem.get(k, [0, 0])[0],
               "peak_so_far_mb": mem.get(k, [0, 0])[1]} for k in order]
    json.dump({"import_s": t_imported - t_start, "main_s": t_end - t_main, "total_s": t_end - t_start,
               "rc": rc, "stages": stages}, open(out_json, "w", encoding="utf-8"), ensure_ascii=False, indent=1)


# ------------------------------------------------------------------ py-spy attribution

STAGES = [  # (stage, markers: a frame whose function part starts with one of these), first match wins
    ("imports", ["_find_and_load ("]),
    ("setup: rules/roster/catalog", ["Workspace.load (", "load_roster (", "load_catalog ("]),
    ("read: parent (fork, wait, unpickle)", ["_Pool.run (", "read_books ("]),
    ("parse: read_return", ["read_return ("]),
    ("versions + duplicates", ["resolve_versions (", "mark_duplicates ("]),
    ("scoring: score_event", ["score_event ("]),
    ("tally", ["tally ("]),
    ("claims (find_claims)", ["find_claims ("]),
    ("previous standings", ["previous_standings ("]),
    ("score_books: other", ["score_books ("]),
    ("summary.xlsx", ["write_summary ("]),
    ("bulletin .txt (render_text)", ["render_text ("]),
    ("bulletin .docx", ["write_bulletin_docx ("]),
    ("bulletin: other", ["write_bulletin ("]),
    ("result.json", ["write_result_json (", "result_dict ("]),
    ("outputs: other", ["write_outputs ("]),
    ("console summary", ["render_merge_summary ("]),
    ("merge: other", ["merge ("]),
]


WORKER_STAGES = [  # samples of the reader processes
    ("workers: read_book", ["read_book ("]),
    ("workers: read_return (parse)", ["read_return ("]),
    ("workers: send result (pickle, pipe)", ["_send_result (", "_ConnectionBase.send (", "ForkingPickler.dumps ("]),
    ("workers: wait for work", ["Connection.recv (", "_ConnectionBase.recv ("]),
]


def _func(frame: str) -> str:
    return frame.strip()


def attribute(raw: Path, top: int = 12) -> dict:
    """Samples per process kind and stage; top self frames per stage; summary.xlsx per sheet writer."""
    total = 0
    by_proc = collections.Counter()
    by_stage = collections.Counter()
    self_by_stage: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    incl_by_stage: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    sheets = collections.Counter()
    main_pid = None
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        try:
            n = int(n)
        except ValueError:
            continue
        frames = [f for f in stack.split(";") if f]
        pids = [m.group(1) for f in frames for m in [re.match(r"process (\d+):", f)] if m]
        if pids and main_pid is None:
            main_pid = pids[0]
        frames = [f for f in frames if " (" in f and f.endswith(")")]
        proc = "main" if not pids or pids[-1] == main_pid else "worker"
        total += n
        by_proc[proc] += n
        stage = "other"
        stages = WORKER_STAGES if proc == "worker" else STAGES
        for name, markers in stages:
            if any(f.startswith(m) for f in frames for m in markers):
                stage = name
                break
        if proc == "worker" and stage == "other":
            stage = "workers: other"
        by_stage[stage] += n
        if frames:
            self_by_stage[stage][frames[-1]] += n
        seen = set()
        for f in frames:
            key = re.sub(r":\d+\)$", ")", f)
            if key not in seen:
                seen.add(key)
                incl_by_stage[stage][key] += n
        if stage == "summary.xlsx":
            i = next(i for i, f in enumerate(frames) if f.startswith("write_summary ("))
            sub = frames[i + 1] if i + 1 < len(frames) else "write_summary (self)"
            sheets[re.sub(r":\d+\)$", ")", sub)] += n
    return {
        "total": total, "by_proc": dict(by_proc), "by_stage": by_stage.most_common(),
        "self": {k: v.most_common(top) for k, v in self_by_stage.items()},
        "inclusive": {k: v.most_common(top * 2) for k, v in incl_by_stage.items()},
        "summary_sheets": sheets.most_common(),
    }


# ------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="profile zg-excel merge")
    ap.add_argument("workdir", nargs="?", type=Path, default=HERE / "out" / "w1")
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    ap.add_argument("--no-pyspy", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write (default bench/out/profile)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        sys.path.insert(0, str(ROOT))
        _child(*a.child)
        return 0
    workdir = a.workdir.resolve()
    out = a.out
    if not (workdir / "inbox").exists():
        sys.path.insert(0, str(HERE))
        from make_workload import make_workload
        make_workload(workdir, units=100, months=10, events=100, subs=12, seed=1)
    out.mkdir(parents=True, exist_ok=True)
    files = sum(1 for _ in (workdir / "inbox").rglob("*") if _.is_file())
    lines = [f"# merge profile: {workdir} ({files} files), load average {os.getloadavg()[0]:.2f}", ""]

    # 1. stage timers
    stages_json = out / "stages.json"
    t0 = time.perf_counter()
    subprocess.run([PY, str(Path(__file__).resolve()), "--child", str(workdir), str(stages_json)], cwd=ROOT,
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    st = json.loads(stages_json.read_text(encoding="utf-8"))
    lines += [f"## Stage timers (wall, inclusive; process {wall:.1f} s, imports {st['import_s']:.2f} s, "
              f"exit code {st['rc']})", "",
              "Stages in the order they first ended; RSS of the main process (not its workers) after the stage's "
              "last sampled call, and its peak so far.", "",
              "| Stage | Seconds | % of main | Calls | RSS after MB | Peak so far MB |", "|---|---|---|---|---|---|"]
    for s in st["stages"]:
        lines.append(f"| {s['stage']} | {s['seconds']:.2f} | {100 * s['seconds'] / st['main_s']:.1f} | {s['calls']} "
                     f"| {s.get('rss_after_mb', 0):.0f} | {s.get('peak_so_far_mb', 0):.0f} |")

    # 2. py-spy
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not a.no_pyspy and Path(spy).exists():
        raw = out / "pyspy.txt"
        cmd = [spy, "record", "-r", str(a.rate), "--subprocesses", "-f", "raw", "-o", str(raw), "--",
               PY, "-c", "__import__('zg_excel.cli').cli.main()", "merge", "-w", str(workdir), *MERGE_ARGS[1:]]
        subprocess.run(cmd, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        at = attribute(raw)
        tot = at["total"] or 1
        lines += ["", f"## py-spy CPU samples ({a.rate}/s; {at['total']} samples ≈ {at['total'] / a.rate:.1f} CPU s; "
                      + ", ".join(f"{k} {100 * v / tot:.0f}%" for k, v in at["by_proc"].items()) + ")",
                  "", "| Stage | CPU s | % of samples |", "|---|---|---|"]
        for k, v in at["by_stage"]:
            lines.append(f"| {k} | {v / a.rate:.1f} | {100 * v / tot:.1f} |")
        if at["summary_sheets"]:
            lines += ["", "### summary.xlsx by callee of write_summary", "", "| Function | CPU s | % of all |",
                      "|---|---|---|"]
            for k, v in at["summary_sheets"]:
                lines.append(f"| {k} | {v / a.rate:.1f} | {100 * v / tot:.1f} |")
        for k, _ in at["by_stage"][:10]:
            lines += ["", f"### {k}: top self frames", ""]
            for f, v in at["self"].get(k, [])[:10]:
                lines.append(f"- {100 * v / tot:.1f}% `{f}`")
        (out / "attribution.json").write_text(json.dumps(at, ensure_ascii=False, indent=1), encoding="utf-8")
    report = "\n".join(lines) + "\n"
    (out / "report.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
