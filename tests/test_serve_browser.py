"""``zg-excel serve`` driven by a real browser (Debian chromium + chromedriver, headless, via selenium).

A unit opens its link, uploads a good and a bad return through the file input and reads the
result on the page; the office page shows the unit's status change; a unit's token is tried on
another unit's and the office's pages. With ``ZG_SCREENSHOT_DIR`` set, the result page is saved
there as ``网页报送.png`` (the README's screenshot: docs/网页报送.png).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.serve_kit import AS_OF, UNIT_A, UNIT_B, YEAR, bad_return, good_return, make_workdir
from zg_excel.serve.app import create_app
from zg_excel.serve.server import make_server
from zg_excel.serve.settings import ServeSettings
from zg_excel.serve.store import Desk
from zg_excel.serve.tokens import ensure_links

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="chromium and chromium-driver are not installed (.ci/run installs them)")


@pytest.fixture
def live(tmp_path):
    root = make_workdir(tmp_path / "w")
    settings = ServeSettings()
    desk = Desk(root, settings, year=YEAR, as_of=AS_OF)
    server = make_server(create_app(root, settings, desk=desk), "127.0.0.1", 0)
    server.prepare()
    port = server.bind_addr[1]
    links = ensure_links(root, desk.units, f"http://127.0.0.1:{port}")
    server.wsgi_app = create_app(root, settings, desk=desk)  # with the tokens just issued
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield root, links, desk
    server.stop()
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'chrome-profile'}", "--window-size=1200,1600", "--lang=zh-CN"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"webkit.webprefs.javascript_enabled": False})  # the no-JS path
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def _upload(driver, paths: list[Path]) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys("\n".join(str(p) for p in paths))
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_a_unit_uploads_in_the_browser_and_the_office_sees_it(live, browser, tmp_path):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    root, links, desk = live
    good = good_return(root, UNIT_A, tmp_path / f"{UNIT_A}-2026年8月.xlsx")
    bad = bad_return(root, UNIT_A, tmp_path / f"{UNIT_A}-2026年8月补报.xlsx")
    other = good_return(root, UNIT_B, tmp_path / f"{UNIT_B}-2026年8月.xlsx")

    # the office first: nobody has uploaded
    desk.snapshot(wait=True)
    browser.get(links.office)
    office = _text(browser)
    assert "本月已报送 0 个单位" in office
    assert UNIT_A in re.search(r"未报送（催报名单）\n(.*)\n", office).group(1)

    # the unit's page, JavaScript off
    browser.get(links.units[UNIT_A])
    assert f"{UNIT_A}\u3000组工信息网页报送" in _text(browser) and "还没有收到本单位的文件" in _text(browser)
    _upload(browser, [good, bad])
    WebDriverWait(browser, 30).until(ec.title_contains("检查结果"))
    page = _text(browser)
    assert "上传 2 个文件：2 个已保存，0 个未保存" in page
    assert "填报单位：峡窝镇党委（按模板中的单位标识认定）" in page
    assert "涉及月份：2026年8月" in page
    assert "录用登记：共3行，可计分3行；可计分的合计15分" in page
    assert "报送前 0 分，加上本文件后 15 分" in page
    assert "市级采用 5分 = 5" in page
    assert "日期无法识别" in page and "请填写有效日期" in page
    assert "媒体“火星日报”不在媒体目录中" in page
    shots = os.environ.get("ZG_SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        browser.set_window_size(1200, 1700)
        assert browser.save_screenshot(str(Path(shots) / "网页报送.png"))

    # another unit's return through this unit's link: refused, nothing stored
    browser.get(links.units[UNIT_A])
    _upload(browser, [other])
    WebDriverWait(browser, 30).until(ec.title_contains("检查结果"))
    page = _text(browser)
    assert f"这个文件是“{UNIT_B}”的报表，不能通过“{UNIT_A}”的链接报送" in page and "0 个已保存" in page
    assert "涉及月份" not in page and "已按模板标识计入" not in page
    assert not (root / "inbox" / UNIT_B).exists()
    assert len(list((root / "inbox" / UNIT_A).iterdir())) == 2

    # the unit's page now lists its files and points
    browser.get(links.units[UNIT_A])
    page = _text(browser)
    assert page.count(f"{UNIT_A}-网页报送-") == 2 and "本单位当前积分：15 分" in page

    # the office sees the change
    desk.snapshot(wait=True)
    browser.get(links.office)
    office = _text(browser)
    assert "本月已报送 1 个单位" in office
    assert UNIT_A not in re.search(r"未报送（催报名单）\n(.*)\n", office).group(1)
    assert "日期无法识别" in office
    assert re.search(rf"1 {UNIT_A} 15 3", office)

    # unit A's token on unit B's page, on the office's pages: the same 404 as a missing page
    browser.get(links.units[UNIT_B].replace(urlsplit(links.units[UNIT_B]).path, "/no/such/page"))
    missing = _text(browser)
    token_a = urlsplit(links.units[UNIT_A]).path.split("/")[2]
    token_b = urlsplit(links.units[UNIT_B]).path.split("/")[2]
    base = links.office.split("/o/")[0]
    for url in (f"{base}/o/{token_a}/", f"{base}/o/{token_a}/download/summary",
                f"{base}/u/{token_a}{token_b}/", f"{base}/u/{token_a[:-1]}/", f"{base}/u/{token_a}/{UNIT_B}/"):
        browser.get(url)
        assert _text(browser) == missing and "页面不存在" in missing
    browser.get(links.units[UNIT_B])
    assert "还没有收到本单位的文件" in _text(browser) and UNIT_A not in _text(browser)
