"""The speed and memory benchmark of zg-excel (issue "Speed and memory"): one command.

    .venv/bin/python bench/run.py            # W1 and W5, warm-up + 3 timed runs each (~40 min)
    .venv/bin/python bench/run.py --quick    # W1 only, warm-up + 1 timed run
    .venv/bin/python bench/run.py --skip-w5  # everything but the 5,000-file workload

Generates (or reuses, see make_workload.py) the workloads under bench/out/,
then runs every measured command as its own process, alternating the
commands within each round so that a noisy neighbour hits all of them alike,
and reports medians, min–max and peak memory. Prints a Markdown table of the
targets (PASS/FAIL) and writes it to bench/out/results.md (raw numbers in
bench/out/results.json).

Memory: a sampler (psutil, every 20 ms) sums the RSS of the measured process
and all its descendants (merge reads in worker processes): "tree peak", an
upper bound, since pages shared between processes count once per process.
"max process" is ru_maxrss from wait4(): the largest single process among the
command and its reaped descendants.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
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

from make_workload import make_workload  # noqa: E402  (bench/ is on sys.path as the script's folder)

PY = sys.executable
CLI = [PY, "-c", "from zg_excel.cli import main; main()"]
YEAR = "2026"
AS_OF = "2026-12-31"

W1 = dict(units=100, months=10, events=100, subs=12, seed=1)
W5 = dict(units=500, months=10, events=100, subs=12, seed=1)
T500 = dict(units=500, months=0, events=0, subs=0, seed=1)  # roster only, for `zg-excel template`

TARGETS = {
    "merge_floor": 1.3,
    "merge_naive": 0.4,
    "w5_per_file": 1.1,
    "w5_rss_mb": 400,
    "help_s": 0.3,
    "check_s": 0.6,
    "template_ratio": 1.5,
}


# ------------------------------------------------------------------ measuring

CODE = ROOT  # where zg_excel is imported from (a frozen copy with --snapshot)


def measure(cmd: list[str], *, cwd: Path | None = None, ok=(0,), interval: float = 0.02) -> dict:
    """Run ``cmd``; wall time, CPU time, exit code, peak tree RSS and max single-process RSS."""
    import psutil

    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    cwd = cwd or CODE
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if CODE != ROOT:  # the snapshot first on the path (the editable install's finder comes after)
        env["PYTHONPATH"] = os.pathsep.join([str(CODE), *filter(None, [os.environ.get("PYTHONPATH")])])
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
    root = psutil.Process(p.pid)
    peak = 0
    nprocs = 1
    while True:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            procs = []
        total = 0
        for q in procs:
            try:
                total += q.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)
        nprocs = max(nprocs, len(procs))
        # Has it exited? (WNOWAIT: do not reap yet, wait4 below collects its rusage.)
        st = os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if st is not None:
            break
        time.sleep(interval)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    stdout = out.read().decode("utf-8", "replace")
    stderr = err.read().decode("utf-8", "replace")
    rc = p.returncode
    res = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rc": rc, "tree_rss_mb": peak / 2**20,
           "max_rss_mb": ru.ru_maxrss / 1024, "procs": nprocs, "stdout": stdout[-2000:]}
    if rc not in ok:
        res["stderr"] = stderr[-3000:]
    return res


def summarize(runs: list[dict]) -> dict:
    good = [r for r in runs if "stderr" not in r]
    walls = [r["wall"] for r in good]
    if not walls:
        return {"n": 0, "error": runs[-1].get("stderr", "")[-1500:] if runs else "not run"}
    return {
        "n": len(walls),
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "cpu_median": statistics.median(r["cpu"] for r in good),
        "tree_rss_mb": max(r["tree_rss_mb"] for r in good),
        "max_rss_mb": max(r["max_rss_mb"] for r in good),
        "procs": max(r["procs"] for r in good),
        "rc": sorted({r["rc"] for r in good}),
        "stdout": good[-1]["stdout"],
    }


def alternate(label: str, commands: dict[str, tuple[list[str], tuple]], runs: int, warmup: int = 1,
              log=print) -> dict[str, dict]:
    """Warm-up rounds, then ``runs`` rounds; each round runs every command once, order rotating."""
    names = list(commands)
    raw: dict[str, list[dict]] = {n: [] for n in names}
    rounds: list[dict[str, float]] = []
    for w in range(warmup):
        for n in names:
            cmd, ok = commands[n]
            r = measure(cmd, ok=ok)
            log(f"  [{label}] warm-up {n}: {r['wall']:.2f} s rc={r['rc']}" + (" FAILED" if "stderr" in r else ""))
            if "stderr" in r:
                log(r["stderr"][-1500:])
    for i in range(runs):
        order = names[i % len(names):] + names[:i % len(names)]
        this: dict[str, float] = {}
        for n in order:
            cmd, ok = commands[n]
            r = measure(cmd, ok=ok)
            raw[n].append(r)
            this[n] = r["wall"] if "stderr" not in r else float("nan")
            log(f"  [{label}] run {i + 1}/{runs} {n}: {r['wall']:.2f} s, tree {r['tree_rss_mb']:.0f} MB, "
                f"max process {r['max_rss_mb']:.0f} MB, rc={r['rc']}" + (" FAILED" if "stderr" in r else ""))
            if "stderr" in r:
                log(r["stderr"][-1500:])
        rounds.append(this)
    out = {n: summarize(raw[n]) for n in names}
    out["_rounds"] = rounds
    return out


def warm_cache(workdir: Path) -> int:
    """Read every file of the inbox once (page cache), the W5 warm-up."""
    n = 0
    for p in sorted((workdir / "inbox").rglob("*")):
        if p.is_file():
            n += len(p.read_bytes())
    return n


def round_ratios(rounds: list[dict[str, float]], a: str, b: str) -> list[float]:
    return [r[a] / r[b] for r in rounds if a in r and b in r and r[b] == r[b] and r[a] == r[a] and r[b] > 0]


# ------------------------------------------------------------------ commands

def merge_cmd(workdir: Path) -> list[str]:
    return [*CLI, "merge", "-w", str(workdir), "--year", YEAR, "--as-of", AS_OF, "-q"]


def naive_cmd(workdir: Path) -> list[str]:
    return [PY, str(HERE / "naive.py"), str(workdir), str(workdir / "output" / "naive.xlsx")]


def floor_cmd(workdir: Path) -> list[str]:
    return [PY, str(HERE / "floor.py"), "read", str(workdir), str(workdir / "output" / "floor.xlsx")]


def check_available() -> bool:
    return (ROOT / "zg_excel" / "commands" / "check.py").exists()


def find_check_cmd(workdir: Path, log=print) -> tuple[list[str] | None, str]:
    """The `zg-excel check` invocation on one return, found by trying the likely forms."""
    one = sorted((workdir / "inbox").iterdir())[0]
    tried = []
    for args in (["check", "-w", str(workdir), "--year", YEAR, "--as-of", AS_OF, "-q", str(one)],
                 ["check", "-w", str(workdir), str(one)], ["check", str(one)]):
        r = measure([*CLI, *args], ok=(0, 1))
        tried.append(f"{' '.join(args[:1] + args[1:-1])} FILE → rc {r['rc']}")
        if r["rc"] in (0, 1):
            return [*CLI, *args], ""
    return None, "; ".join(tried)


# ------------------------------------------------------------------ report

def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def machine_info() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rev = ""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "zg_excel"],
                               capture_output=True, text=True).stdout.strip()
        rev += " + uncommitted changes in zg_excel/" if dirty else ""
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "loadavg_start": os.getloadavg(), "python": platform.python_version(),
            "git": rev, "date": dt.datetime.now().isoformat(timespec="seconds")}


def build_report(res: dict) -> str:
    m = res["machine"]
    lines = [f"# zg-excel benchmark results ({m['date']})", "",
             f"Machine: {m['cpus']} CPUs ({m['cpu']}), load average at start {m['loadavg_start'][0]:.2f}; "
             f"Python {m['python']}; commit {m['git']}. Command: `{res['command']}`.", ""]
    for key, w in res["workloads"].items():
        lines.append(f"- {key}: {w['files']} files, {w['events']} 录用登记 rows, {w['submissions']} 报送登记 rows, "
                     f"{w['inbox_bytes'] / 1e6:.1f} MB ({w['params']['units']} units × {w['params']['months']} months)")
    lines.append("")
    lines += ["## Targets", "", "| Target | Measured | Limit | Result |", "|---|---|---|---|"]
    for t in res["targets"]:
        lines.append(f"| {t['name']} | {t['measured']} | {t['limit']} | {verdict(t['ok'])} |")
    lines += ["", "## Measurements", "",
              "Wall seconds over the timed runs (after one warm-up run each); memory is the peak over the runs.", "",
              "| Workload | Command | Runs | Median s | Min–max s | CPU s (median) | s / file | Tree peak RSS MB "
              "| Max process RSS MB | Processes | Exit |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in res["rows"]:
        s = row["stats"]
        if not s.get("n"):
            lines.append(f"| {row['workload']} | {row['command']} | 0 | — | — | — | — | — | — | — | error |")
            continue
        per = fmt_s(s["median"] / row["files"]) if row.get("files") else "—"
        lines.append(f"| {row['workload']} | {row['command']} | {s['n']} | {fmt_s(s['median'])} | "
                     f"{fmt_s(s['min'])}–{fmt_s(s['max'])} | {fmt_s(s['cpu_median'])} | {per} | "
                     f"{s['tree_rss_mb']:.0f} | {s['max_rss_mb']:.0f} | {s['procs']} | "
                     f"{','.join(map(str, s['rc']))} |")
    if res.get("ratios"):
        lines += ["", "## Ratios (same run)", "", "| Ratio | Of medians | Per round (min–max) |", "|---|---|---|"]
        for r in res["ratios"]:
            per = f"{r['round_min']:.2f}–{r['round_max']:.2f}" if r.get("round_min") is not None else "—"
            lines.append(f"| {r['name']} | {r['value']:.2f} | {per} |")
    if res.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in res["notes"]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="zg-excel speed and memory benchmark")
    ap.add_argument("--quick", action="store_true", help="W1 only, warm-up + 1 timed run (no template/W5)")
    ap.add_argument("--skip-w5", action="store_true", help="skip the 5,000-file workload")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per command (default 3, --quick 1)")
    ap.add_argument("--w5-naive", action="store_true", help="also time the naive script on W5 (slow)")
    ap.add_argument("--snapshot", action="store_true",
                    help="measure a frozen copy of zg_excel/ (bench/out/snapshot/), not the live tree "
                         "that others may be editing during the run")
    ap.add_argument("--full-warmup", action="store_true",
                    help="W5 warm-up = one full run of each command (default: read the inbox files once)")
    a = ap.parse_args(argv)
    runs = a.runs or (1 if a.quick else 3)
    skip_w5 = a.skip_w5 or a.quick
    OUT.mkdir(parents=True, exist_ok=True)
    log_path = OUT / "run.log"
    logf = log_path.open("w", encoding="utf-8")

    def log(*parts) -> None:
        text = " ".join(str(p) for p in parts)
        print(text, flush=True)
        logf.write(text + "\n")
        logf.flush()

    res: dict = {"machine": machine_info(), "command": " ".join(["bench/run.py", *(argv or sys.argv[1:])]),
                 "workloads": {}, "rows": [], "targets": [], "ratios": [], "notes": []}
    try:
        import psutil  # noqa: F401
    except ImportError:
        log("psutil is needed: .venv/bin/pip install psutil")
        return 2

    if a.snapshot:
        global CODE
        snap = OUT / "snapshot"
        if snap.exists():
            shutil.rmtree(snap)
        shutil.copytree(ROOT / "zg_excel", snap / "zg_excel", ignore=shutil.ignore_patterns("__pycache__"))
        CODE = snap
        res["machine"]["git"] += " (frozen copy in bench/out/snapshot)"
        log(f"Measuring a frozen copy of zg_excel/ at {res['machine']['git']}")
    log("Generating workloads (cached in bench/out/)…")
    w1 = OUT / "w1"
    res["workloads"]["W1"] = make_workload(w1, **W1)
    if not skip_w5:
        w5 = OUT / "w5"
        res["workloads"]["W5"] = make_workload(w5, **W5)
    t500 = OUT / "t500"
    if not a.quick:
        make_workload(t500, **T500)

    def add_row(workload: str, command: str, stats: dict, files: int | None = None) -> None:
        res["rows"].append({"workload": workload, "command": command, "stats": stats, "files": files})

    def target(name: str, measured: str, limit: str, ok: bool | None) -> None:
        res["targets"].append({"name": name, "measured": measured, "limit": limit, "ok": ok})

    def ratio(name: str, stats: dict, a_: str, b_: str) -> float | None:
        sa, sb = stats.get(a_, {}), stats.get(b_, {})
        if not sa.get("n") or not sb.get("n"):
            return None
        value = sa["median"] / sb["median"]
        per = round_ratios(stats["_rounds"], a_, b_)
        res["ratios"].append({"name": name, "value": value, "round_min": min(per) if per else None,
                              "round_max": max(per) if per else None})
        return value

    # --- W1: merge vs naive vs floor
    n1 = res["workloads"]["W1"]["files"]
    log(f"W1 ({n1} files): merge, naive, floor — {runs} timed runs each")
    s1 = alternate("W1", {"merge": (merge_cmd(w1), (0, 1)), "naive": (naive_cmd(w1), (0,)),
                          "floor": (floor_cmd(w1), (0,))}, runs, log=log)
    add_row("W1", "zg-excel merge", s1["merge"], n1)
    add_row("W1", "naive.py (pandas+openpyxl)", s1["naive"], n1)
    add_row("W1", "floor.py read (calamine+xlsxwriter)", s1["floor"], n1)
    mf = ratio("merge / floor (W1)", s1, "merge", "floor")
    mn = ratio("merge / naive (W1)", s1, "merge", "naive")
    target("merge / floor on W1", f"{mf:.2f}" if mf else "error", f"≤ {TARGETS['merge_floor']}",
           None if mf is None else mf <= TARGETS["merge_floor"])
    target("merge / naive on W1", f"{mn:.2f}" if mn else "error", f"≤ {TARGETS['merge_naive']}",
           None if mn is None else mn <= TARGETS["merge_naive"])
    if s1["merge"].get("n"):
        try:
            rj = json.loads((w1 / "output" / "result.json").read_text(encoding="utf-8"))
            res["merge_w1_rows"] = rj.get("rows") or rj.get("totals") or {}
        except (OSError, ValueError):
            pass

    # --- W5: merge (and floor for reference)
    per1 = s1["merge"]["median"] / n1 if s1["merge"].get("n") else None
    if not skip_w5:
        n5 = res["workloads"]["W5"]["files"]
        cmds = {"merge": (merge_cmd(w5), (0, 1)), "floor": (floor_cmd(w5), (0,))}
        if a.w5_naive:
            cmds["naive"] = (naive_cmd(w5), (0,))
        log(f"W5 ({n5} files): {', '.join(cmds)} — {runs} timed runs each")
        if a.full_warmup:
            s5 = alternate("W5", cmds, runs, log=log)
        else:
            log(f"  [W5] warm-up: read every inbox file once ({warm_cache(w5) / 1e6:.0f} MB)")
            s5 = alternate("W5", cmds, runs, warmup=0, log=log)
        add_row("W5", "zg-excel merge", s5["merge"], n5)
        add_row("W5", "floor.py read (calamine+xlsxwriter)", s5["floor"], n5)
        if "naive" in s5:
            add_row("W5", "naive.py (pandas+openpyxl)", s5["naive"], n5)
        ratio("merge / floor (W5)", s5, "merge", "floor")
        if s5["merge"].get("n") and per1:
            per5 = s5["merge"]["median"] / n5
            target("W5 time per file ≤ 1.1 × W1 time per file",
                   f"{per5 * 1000:.1f} ms vs {per1 * 1000:.1f} ms ({per5 / per1:.2f}×)", "≤ 1.1×",
                   per5 <= TARGETS["w5_per_file"] * per1)
            rss = s5["merge"]["tree_rss_mb"]
            target("peak RSS of merge on W5 (process tree)",
                   f"{rss:.0f} MB (largest single process {s5['merge']['max_rss_mb']:.0f} MB)",
                   f"≤ {TARGETS['w5_rss_mb']} MB", rss <= TARGETS["w5_rss_mb"])
        else:
            target("W5 time per file ≤ 1.1 × W1 time per file", "error", "≤ 1.1×", None)
            target("peak RSS of merge on W5 (process tree)", "error", f"≤ {TARGETS['w5_rss_mb']} MB", None)
    else:
        target("W5 time per file ≤ 1.1 × W1 time per file", "skipped (--skip-w5/--quick)", "≤ 1.1×", None)
        target("peak RSS of merge on W5 (process tree)", "skipped (--skip-w5/--quick)",
               f"≤ {TARGETS['w5_rss_mb']} MB", None)

    # --- start-up: --help and check
    short_runs = max(5, runs * 2) if not a.quick else 3
    cmds = {"help": ([*CLI, "--help"], (0,))}
    check_note = ""
    if check_available():
        chk, why = find_check_cmd(w1, log=log)
        if chk:
            cmds["check"] = (chk, (0, 1))
        else:
            check_note = f"zg_excel/commands/check.py exists but no invocation worked ({why})"
    else:
        check_note = "zg_excel/commands/check.py not present yet: `zg-excel check` not measured"
    log(f"Start-up: {', '.join(cmds)} — {short_runs} timed runs each")
    ss = alternate("startup", cmds, short_runs, log=log)
    add_row("—", "zg-excel --help", ss["help"])
    h = ss["help"].get("median")
    target("`zg-excel --help` wall", f"{h:.3f} s" if h else "error", f"≤ {TARGETS['help_s']} s",
           None if h is None else h <= TARGETS["help_s"])
    if "check" in ss:
        add_row("W1 (1 file)", "zg-excel " + " ".join(cmds["check"][0][3:5]) + " … FILE", ss["check"])
        c = ss["check"].get("median")
        target("`zg-excel check` on one return, wall", f"{c:.3f} s" if c else "error",
               f"≤ {TARGETS['check_s']} s", None if c is None else c <= TARGETS["check_s"])
    else:
        target("`zg-excel check` on one return, wall", "not measured", f"≤ {TARGETS['check_s']} s", None)
        res["notes"].append(check_note)

    # --- template for 500 units vs xlsxwriter baseline
    if not a.quick:
        base_out = OUT / "t500_floor"
        log(f"Templates for 500 units: zg-excel template vs floor.py templates — {runs} timed runs each")
        st = alternate("template", {
            "template": ([*CLI, "template", "-w", str(t500), "--year", YEAR, "-q"], (0,)),
            "baseline": ([PY, str(HERE / "floor.py"), "templates", str(t500), str(base_out)], (0,)),
        }, runs, log=log)
        add_row("500 units", "zg-excel template", st["template"])
        add_row("500 units", "floor.py templates (xlsxwriter, no styles/validation)", st["baseline"])
        tr = ratio("template / xlsxwriter baseline (500 units)", st, "template", "baseline")
        target("`zg-excel template` 500 units / xlsxwriter baseline", f"{tr:.2f}" if tr else "error",
               f"≤ {TARGETS['template_ratio']}", None if tr is None else tr <= TARGETS["template_ratio"])
    else:
        target("`zg-excel template` 500 units / xlsxwriter baseline", "skipped (--quick)",
               f"≤ {TARGETS['template_ratio']}", None)

    res["machine"]["loadavg_end"] = os.getloadavg()
    git_end = machine_info()["git"]
    if not a.snapshot and git_end != res["machine"]["git"]:
        res["notes"].append(f"The code changed during this run ({res['machine']['git']} → {git_end}): "
                            "the rows mix versions; run again for a consistent table.")
    res["notes"].append("Max process RSS cannot go below the benchmark driver's own RSS (~45 MB): Linux carries "
                        "the pre-exec high-water mark of a forked child into ru_maxrss. Read the tree peak "
                        "for small commands.")
    if per1:
        res["notes"].append(f"merge time per file on W1: {per1 * 1000:.1f} ms")
    res["notes"].append("Tree peak RSS sums the RSS of the process and its descendants, sampled every 20 ms; "
                        "pages shared between processes count once per process, so it is an upper bound.")
    res["notes"].append(f"Load average at end {res['machine']['loadavg_end'][0]:.2f}; "
                        "the machine is shared: compare ratios within this run, not times across runs.")
    report = build_report(res)
    (OUT / "results.md").write_text(report, encoding="utf-8")
    for row in res["rows"]:
        row["stats"].pop("stdout", None)
    (OUT / "results.json").write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    log("")
    log(report)
    log(f"Written: {OUT / 'results.md'}, {OUT / 'results.json'}, {log_path}")
    logf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
