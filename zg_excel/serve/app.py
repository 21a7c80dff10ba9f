"""The Flask application: a unit's page and upload, the office's page, merge and downloads.

Routes (``<token>`` is a personal link's token; anything else is 404)::

    GET  /u/<token>/            the unit's page: upload form, its files, its current points
    POST /u/<token>/upload      check and store the uploaded returns; the result page
    GET  /o/<token>/            the office's page: this month's status, errors, ranking, downloads
    POST /o/<token>/merge       run the merge (one at a time)
    GET  /o/<token>/download/<key>   the latest summary workbook / 通报 (fixed keys)

A wrong token, a unit's token on the office's routes, a wrong method and a missing page all get
the same 404 answer. Every POST needs the form's CSRF token (signed with the server's key,
bound to the link and dated). Every response carries a Content-Security-Policy (no script at
all; the page's one style block by nonce), nosniff, no-referrer and no-store.
"""

from __future__ import annotations

import collections
import datetime as dt
import hmac
import hashlib
import secrets
import threading
import time
from fractions import Fraction
from pathlib import Path

from flask import Flask, Response, g, request, send_file

from ..check import FOUND_BY_ZH, SUB_OUTCOME_ZH, counts_line, verdict, issue_where, fix_text
from ..files import OutputError
from ..model import OUTCOME_ZH, SCORED
from ..result import FAILED, REJECTED, SKIPPED
from ..text import points_text as fmt
from ..text import year_month_cn, year_months_grouped
from .pages import render
from .settings import ServeSettings
from .store import DOWNLOAD_ZH, Desk, MergeBusy, Outcome, latest_downloads, run_merge
from .tokens import OFFICE_PATH, UNIT_PATH, TokenStore, load_store, token_hash

NOT_FOUND_BODY = ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>页面不存在</title></head>"
                  "<body><p>页面不存在。请检查链接是否完整（链接较长，请整段复制）。</p></body></html>")


def not_found() -> Response:
    return Response(NOT_FOUND_BODY, status=404, mimetype="text/html")


class RateLimit:
    """Files one token may upload per sliding window."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.seen: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self.lock = threading.Lock()

    def take(self, key: str, n: int) -> bool:
        now = time.monotonic()
        with self.lock:
            q = self.seen[key]
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) + n > self.limit:
                return False
            q.extend([now] * n)
            return True


def _pts(x: Fraction | None, places: int) -> str:
    return "" if x is None else fmt(x, places)


def _outcome_view(o: Outcome, places: int) -> dict:
    """What the result page shows of one upload; points at the display precision ``places`` (rules.places)."""
    fc = o.check
    view = {"name": o.name, "accepted": o.accepted, "reason": o.reason, "check": fc,
            "stored_name": o.stored.rsplit("/", 1)[-1], "months": year_months_grouped(o.months), "groups": [],
            "rows": [], "verdict": "", "found_by": "", "events_line": "", "subs_line": "",
            "proof": o.proof, "proves": o.proves, "proof_waiting": o.proof_waiting}
    if o.proof and o.accepted:
        view["stored_name"] = o.stored.split("/", 1)[-1]  # 台帐/<name>: below the unit's own folder
    if fc is None:
        return view
    if not o.accepted:  # a refusal says only that, why and what to do: nothing of what it would have counted
        if fc.status == REJECTED:  # not read as a return: its errors are the why
            view["groups"] = _issue_groups(fc, o)
        return view
    view["found_by"] = FOUND_BY_ZH.get(fc.found_by, fc.found_by)
    if fc.unit and o.accepted:
        line = counts_line("录用登记", fc.events, fc.outcomes, {**OUTCOME_ZH, SCORED: "可计分"}, SCORED)
        if fc.scoring:
            line += f"；可计分的合计{fmt(fc.points, places)}分"
        if fc.credit:
            line += f"（另给对口处室{fmt(fc.credit, places)}分）"
        view["events_line"] = line
        view["subs_line"] = counts_line("报送登记", fc.submissions, fc.submission_outcomes, SUB_OUTCOME_ZH,
                                         "counted")
        view["verdict"] = verdict(fc)
        delta = (o.after or 0) - (o.before or 0)
        view.update(before=_pts(o.before, places), after=_pts(o.after, places),
                    delta=("增加" + fmt(delta, places) + "分" if delta > 0 else "减少" + fmt(-delta, places) + "分" if delta < 0
                           else "积分不变"))
        view["rows"] = [{"line": e.line, "title": e.title or "", "outcome": OUTCOME_ZH.get(e.outcome, e.outcome),
                         "points": fmt(e.points, places) if e.outcome == SCORED else "", "explanation": e.explanation}
                        for e in o.events]
    view["groups"] = _issue_groups(fc, o)
    return view


def _issue_groups(fc, o: Outcome) -> list:
    """需要修改 / 请核实 with cell and fix; the server's name of the file never shown (the client's instead)."""
    def shown(text: str) -> str:
        return text.replace(o.checked_as, o.name) if o.checked_as and not o.accepted else text

    groups = []
    for title, group in (("需要修改", fc.errors), ("请核实", fc.warnings)):
        if group and fc.status not in (FAILED, SKIPPED):  # an unread file: its reason says it all
            groups.append((title, [{"where": issue_where(i) or "整个文件", "message": shown(i.message + (
                f"（填的是“{i.value}”）" if i.value and i.value not in i.message else "")), "fix": shown(fix_text(i))}
                for i in group]))
    return groups


def create_app(workdir: Path, settings: ServeSettings, *, desk: Desk | None = None,
               store: TokenStore | None = None) -> Flask:
    workdir = Path(workdir)
    desk = desk or Desk(workdir, settings)
    app = Flask("zg_excel.serve", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024
    app.config["MAX_FORM_PARTS"] = settings.max_files + 10
    app.extensions["zg_desk"] = desk
    tokens = store or load_store(workdir)
    key = bytes.fromhex(tokens.csrf_key) if tokens.csrf_key else secrets.token_bytes(32)
    limiter = RateLimit(settings.uploads_per_window, settings.window_seconds)

    def csrf_for(who: str) -> str:
        ts = str(int(time.time()))
        mac = hmac.new(key, f"{who}|{ts}".encode(), hashlib.sha256).hexdigest()
        return f"{ts}.{mac}"

    def csrf_ok(who: str) -> bool:
        got = request.form.get("csrf", "")
        ts, _, mac = got.partition(".")
        if not ts.isdigit() or not mac:
            return False
        want = hmac.new(key, f"{who}|{ts}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, want):
            return False
        age = time.time() - int(ts)
        if not -300 <= age <= settings.csrf_hours * 3600:
            return False
        # Browsers say where a POST comes from: Sec-Fetch-Site, and Origin (``null`` under our
        # no-referrer policy). Another site's form is refused even with a valid token.
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("Origin")
        return origin in (None, "null") or origin == request.host_url.rstrip("/")

    def page(name: str, status: int = 200, **ctx) -> Response:
        year, as_of = desk.period()
        ctx.setdefault("subheading", f"{year}年度组工信息报送　统计截止{as_of.isoformat()}")
        return Response(render(name, nonce=g.nonce, **ctx), status=status, mimetype="text/html")

    def refused(message: str, status: int, back: str) -> Response:
        return page("message", status, title="未能处理", heading="未能处理", message=message, back=back)

    @app.before_request
    def _nonce():
        g.nonce = secrets.token_urlsafe(16)

    @app.after_request
    def _headers(resp: Response) -> Response:
        nonce = getattr(g, "nonce", "x")
        resp.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Cache-Control"] = "no-store"
        resp.headers.pop("Server", None)
        return resp

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _missing(_e):
        return not_found()

    @app.errorhandler(413)
    def _too_large(_e):
        return Response(render("message", nonce=g.get("nonce", "x"), title="文件过大", heading="文件过大",
                               subheading="", back="",
                               message=f"上传的内容过大：每次最多 {settings.max_files} 个文件，每个不超过 "
                                       f"{settings.max_file_mb:g} MB。未保存任何文件，请返回后重新选择。"),
                        status=413, mimetype="text/html")

    # ---------------------------------------------------------------- unit

    def unit_or_404(token: str) -> str | None:
        return tokens.find(UNIT_PATH, token)

    def unit_page_ctx(unit: str, token: str) -> dict:
        return {"title": f"{unit}·网页报送", "heading": f"{unit}　组工信息网页报送", "base": f"/u/{token}/",
                "csrf": csrf_for("u|" + token_hash(token)), "max_mb": f"{settings.max_file_mb:g}"}

    @app.route("/u/<token>/", methods=["GET"])
    def unit_page(token: str):
        unit = unit_or_404(token)
        if unit is None:
            return not_found()
        mine = desk.unit_entries(unit)
        files = [{"name": e.relpath.rsplit("/", 1)[-1], "time": e.mtime.strftime("%Y-%m-%d %H:%M"),
                  "size": f"{e.size / 1024:.0f} KB"} for e in sorted(mine, key=lambda e: e.mtime_ns, reverse=True)]
        entries = desk.scan()
        proofs = desk.proof_entries(unit, entries)
        files += [{"name": e.relpath.split("/", 1)[-1], "time": e.mtime.strftime("%Y-%m-%d %H:%M"),
                   "size": f"{e.size / 1024:.0f} KB"} for e in sorted(proofs, key=lambda e: e.relpath)]
        points = fmt(desk.unit_total(unit, desk.items_of(mine + proofs)), desk.rules.places) if mine else "0"
        return page("unit", files=files, points=points, **unit_page_ctx(unit, token))

    @app.route("/u/<token>/upload", methods=["POST"])
    def unit_upload(token: str):
        unit = unit_or_404(token)
        if unit is None:
            return not_found()
        back = f"/u/{token}/"
        if not csrf_ok("u|" + token_hash(token)):
            return refused("页面已过期或来源不明，未保存任何文件。请重新打开本单位的链接后再上传。", 403, back)
        uploads = [f for f in request.files.getlist("files") if f and (f.filename or "")]
        if not uploads:
            return refused("没有选择文件。请点“选择文件”选好报表后再上传。", 400, back)
        if len(uploads) > settings.max_files:
            return refused(f"一次最多上传 {settings.max_files} 个文件，未保存任何文件。", 400, back)
        if not limiter.take(token_hash(token), len(uploads)):
            return refused(f"上传过于频繁（每 {settings.window_seconds / 60:g} 分钟最多 {settings.uploads_per_window} "
                           "个文件），未保存。请稍后再试。", 429, back)
        files = [(f.filename or "", f.stream.read(settings.max_file_bytes + 1)) for f in uploads]
        outcomes = desk.receive(unit, files, request.remote_addr or "")
        n_ok = sum(o.accepted for o in outcomes)
        ctx = unit_page_ctx(unit, token)
        ctx["title"] = f"{unit}·检查结果"
        ctx["subheading"] = f"上传 {len(outcomes)} 个文件：{n_ok} 个已保存，{len(outcomes) - n_ok} 个未保存"
        return page("result", outcomes=[_outcome_view(o, desk.rules.places) for o in outcomes], **ctx)

    # ---------------------------------------------------------------- office

    def office_ok(token: str) -> bool:
        return tokens.find(OFFICE_PATH, token) == "office"

    def office_view(token: str, message: str = "", status: int = 200) -> Response:
        snap, stale = desk.snapshot()
        today = dt.date.today()
        ctx = {"title": "网页报送·办公室", "heading": "组工信息网页报送　区委组织部办公室", "base": f"/o/{token}/",
               "csrf": csrf_for("o|" + token_hash(token)), "message": message, "snap": snap,
               "refresh": 3 if snap is None or stale else 0,
               "month_label": year_month_cn(today.year, today.month)}
        downloads = latest_downloads(workdir, desk.period()[0])
        ctx["downloads"] = [(k, DOWNLOAD_ZH[k], dt.datetime.fromtimestamp(p.stat().st_mtime).strftime("%m-%d %H:%M"))
                            for k, p in downloads.items()]
        if snap is not None:
            month_start = dt.datetime(today.year, today.month, 1)
            per_unit: dict[str, list] = {}
            unit_of_file = {}
            for e in snap.entries:
                unit_of_file[e.relpath] = e.unit
                if e.unit and e.mtime >= month_start:
                    per_unit.setdefault(e.unit, []).append(e)
            sent = [{"unit": u, "count": len(per_unit[u]),
                     "last": max(e.mtime for e in per_unit[u]).strftime("%Y-%m-%d %H:%M")}
                    for u in desk.units if u in per_unit]
            unsent = [u for u in desk.units if u not in per_unit]
            errs: dict[str, list[str]] = {}
            for i in snap.result.issues.items:
                if i.severity != "error":
                    continue
                u = i.unit or unit_of_file.get(i.file, "") or "（未能认定单位的文件）"
                errs.setdefault(u, []).append(f"{i.where()}：{i.message}")
            errors = [(u, len(v), v[:3]) for u, v in sorted(errs.items(), key=lambda kv: -len(kv[1]))]
            cats: dict[str, list] = {}
            for t in snap.result.units:
                cats.setdefault(t.category, []).append(t)
            ranking = [(c, [{"rank": t.rank, "unit": t.unit, "total": fmt(t.total, desk.rules.places), "events": t.events_scored}
                            for t in sorted(ts, key=lambda t: (t.rank, t.order))]) for c, ts in cats.items()]
            ctx.update(sent=sent, unsent=unsent, errors=errors, ranking=ranking, stale=stale,
                       nfiles=len(snap.entries), snap_time=snap.built.strftime("%Y-%m-%d %H:%M:%S"))
        return page("office", status, **ctx)

    @app.route("/o/<token>/", methods=["GET"])
    def office_page(token: str):
        if not office_ok(token):
            return not_found()
        return office_view(token)

    @app.route("/o/<token>/merge", methods=["POST"])
    def office_merge(token: str):
        if not office_ok(token):
            return not_found()
        if not csrf_ok("o|" + token_hash(token)):
            return refused("页面已过期或来源不明，未合并。请重新打开办公室页面后再试。", 403, f"/o/{token}/")
        year, as_of = desk.period()
        try:
            result, written = run_merge(workdir, year=year, as_of=as_of)
        except MergeBusy as exc:
            return office_view(token, str(exc), 409)
        except OutputError as exc:  # an output open in Excel/WPS, a read-only folder, a full disk
            return office_view(token, f"合并未完成：{exc}", 500)
        errors = result.issues.count("error")
        returned = sum(1 for t in result.units if t.returned)
        msg = (f"合并完成：{returned}/{len(result.units)}个单位有报送文件，共{len(result.files)}个文件；"
               f"错误{errors}个。已生成汇总表和通报，可在下方下载。")
        return office_view(token, msg)

    @app.route("/o/<token>/download/<key>", methods=["GET"])
    def office_download(token: str, key: str):
        if not office_ok(token):
            return not_found()
        path = latest_downloads(workdir, desk.period()[0]).get(key)
        if path is None:
            return not_found()
        return send_file(path, as_attachment=True, download_name=path.name, max_age=0)

    return app
