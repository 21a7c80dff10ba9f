"""Personal links: one random token per unit and one for the office, kept only as sha256 hashes.

The server's own record (``网页报送/令牌.json``) holds the hashes and the key that signs form
(CSRF) tokens, never a token. The links themselves must reach the units, so they are written
for the office in ``网页报送/网页报送链接.txt`` (a list to paste into a notice) and ``.xlsx``, and
the office's own address in ``网页报送/办公室入口.txt``. When the server starts again, a link
is taken back from those files only if its token still matches the stored hash; a unit with no
such link gets a new token (its old link, if any, stops working).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..files import atomic_write_bytes
from ..workspace import Workspace

UNIT_PATH = "u"
OFFICE_PATH = "o"
_LINE = re.compile(r"^(?P<unit>.+?)：(?P<url>https?://\S+)\s*$")
_TOKEN_IN_URL = re.compile(r"/(?:u|o)/(?P<token>[A-Za-z0-9_-]{20,})/?$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


@dataclass
class TokenStore:
    """The hashes the server checks presented tokens against."""

    units: dict[str, str] = field(default_factory=dict)  # unit -> sha256(token)
    office: str = ""
    csrf_key: str = ""

    def find(self, kind: str, token: str) -> str | None:
        """The unit (kind ``u``) or ``"office"`` (kind ``o``) the token opens; None otherwise.

        Every stored hash is compared, each in constant time, so the time taken does not
        depend on which (or whether a) hash matched."""
        if not token or len(token) > 200:
            return None
        got = token_hash(token)
        found = None
        if kind == OFFICE_PATH:
            if self.office and hmac.compare_digest(got, self.office):
                found = "office"
            return found
        if kind != UNIT_PATH:
            return None
        for unit, h in self.units.items():
            if hmac.compare_digest(got, h):
                found = unit
        return found


def serve_dir(workdir: Path) -> Path:
    return Workspace(Path(workdir)).web_dir


def load_store(workdir: Path) -> TokenStore:
    path = Workspace(Path(workdir)).web_tokens
    if not path.exists():
        return TokenStore()
    data = json.loads(path.read_text(encoding="utf-8"))
    return TokenStore(units=dict(data.get("units", {})), office=data.get("office", ""),
                      csrf_key=data.get("csrf_key", ""))


def _save_store(workdir: Path, store: TokenStore) -> None:
    data = {"version": 1, "说明": "各链接令牌的 SHA-256 摘要（不含令牌本身）；删除本文件会使全部链接失效并重新生成",
            "office": store.office, "units": store.units, "csrf_key": store.csrf_key}
    atomic_write_bytes(Workspace(Path(workdir)).web_tokens,
                       json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))


def _read_links(path: Path) -> dict[str, str]:
    """unit -> URL as written in a links file (no check)."""
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        m = _LINE.match(line.strip())
        if m:
            out[m["unit"]] = m["url"]
    return out


def _token_of(url: str) -> str | None:
    m = _TOKEN_IN_URL.search(url)
    return m["token"] if m else None


def unit_links(workdir: Path) -> dict[str, str]:
    """unit -> personal link, as last written by ``zg-excel serve`` (for ``mail --kind links``).

    Only links whose token matches the stored hash are returned (a stale file is not trusted)."""
    store = load_store(workdir)
    out = {}
    for unit, url in _read_links(Workspace(Path(workdir)).web_links_txt).items():
        token = _token_of(url)
        if token and unit in store.units and hmac.compare_digest(token_hash(token), store.units[unit]):
            out[unit] = url
    return out


@dataclass
class Links:
    office: str
    units: dict[str, str]  # unit -> URL, roster order
    new: list[str]  # units (and "办公室") that got a new token this time
    files: list[Path]


def ensure_links(workdir: Path, units: list[str], base_url: str, *, reissue: bool = False) -> Links:
    """Give every unit of ``units`` and the office a working link under ``base_url``; write the links files.

    Tokens whose link can be recovered (file + matching hash) are kept unless ``reissue``."""
    base_url = base_url.rstrip("/")
    ws = Workspace(Path(workdir))
    ws.web_dir.mkdir(parents=True, exist_ok=True)
    store = load_store(workdir)
    if not store.csrf_key or reissue:
        store.csrf_key = secrets.token_hex(32)
    old = _read_links(ws.web_links_txt)
    new: list[str] = []
    tokens: dict[str, str] = {}
    for unit in units:
        token = None if reissue else _token_of(old.get(unit, ""))
        if not (token and unit in store.units and hmac.compare_digest(token_hash(token), store.units[unit])):
            token = new_token()
            new.append(unit)
        tokens[unit] = token
    store.units = {u: token_hash(t) for u, t in tokens.items()}
    office_old = _read_links(ws.web_office_txt).get("办公室")
    office_token = None if reissue else _token_of(office_old or "")
    if not (office_token and store.office and hmac.compare_digest(token_hash(office_token), store.office)):
        office_token = new_token()
        new.append("办公室")
    store.office = token_hash(office_token)
    _save_store(workdir, store)
    urls = {u: f"{base_url}/{UNIT_PATH}/{t}/" for u, t in tokens.items()}
    office_url = f"{base_url}/{OFFICE_PATH}/{office_token}/"
    files = _write_links(ws, urls, office_url)
    return Links(office=office_url, units=urls, new=new, files=files)


def _write_links(ws: Workspace, urls: dict[str, str], office_url: str) -> list[Path]:
    head = ("各单位组工信息网页报送链接（每个单位一个，只发给本单位信息员，请勿转发；"
            "用浏览器打开本单位链接即可上传报表并立即看到检查和计分结果）")
    text = head + "\n\n" + "".join(f"{u}：{url}\n" for u, url in urls.items())
    atomic_write_bytes(ws.web_links_txt, text.encode("utf-8"))
    atomic_write_bytes(ws.web_office_txt, (
        "区委组织部（办公室）网页报送管理页面，仅供本部门使用，请勿外传：\n\n"
        f"办公室：{office_url}\n").encode("utf-8"))
    _write_links_xlsx(ws.web_links_xlsx, urls)
    return [ws.web_links_txt, ws.web_links_xlsx, ws.web_office_txt]


def _write_links_xlsx(path: Path, urls: dict[str, str]) -> None:
    import os

    import xlsxwriter

    from ..files import atomic_target

    tmp = atomic_target(path)
    try:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False})
        ws = wb.add_worksheet("网页报送链接")
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_name": "宋体"})
        cell = wb.add_format({"border": 1, "font_name": "宋体"})
        ws.write_string(0, 0, "单位名称", head)
        ws.write_string(0, 1, "网页报送链接（只发给本单位）", head)
        ws.set_column(0, 0, 34)
        ws.set_column(1, 1, 90)
        for r, (unit, url) in enumerate(urls.items(), start=1):
            ws.write_string(r, 0, unit, cell)
            ws.write_string(r, 1, url, cell)
        ws.freeze_panes(1, 0)
        wb.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
