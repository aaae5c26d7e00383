"""In Chromium at phone size (390×844): the province administrator copies 2023 into a 2026
draft, enters CT06's baseline, edits a target and publishes; the API then lists both years.

It runs on a server of its own: a published 2026 program is the program in force during 2026,
which would change what the other browser tests' shared server shows.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, DEMO_PASSWORD, PHONE, ROOT, _free_port
from tests.databases import drop_database, new_database_url

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_server() -> Iterator[str]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="mttq-browser-programs-"))
    port = _free_port()
    pg_admin_url = os.environ.get("TEST_DATABASE_URL", "")
    if pg_admin_url.startswith("postgresql"):
        db_url, db_name = new_database_url(pg_admin_url, "mttq_browser_prog")
    else:
        db_name, db_url = None, f"sqlite:///{tmp / 'browser.db'}"
    env = {**os.environ, "DATABASE_URL": db_url, "ENVIRONMENT": "local", "SEED_DEMO_USERS": "true",
           "SEED_DEMO_VALUES": "false", "LOGIN_RATE_LIMIT": "1000/minute",
           "SECRET_KEY": "browser-test-secret-key-not-for-production"}
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited; see {tmp / 'server.log'}")
            try:
                urllib.request.urlopen(base + "/login", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if db_name:
            drop_database(pg_admin_url, db_name)


@pytest.fixture
def admin_page(browser, own_server):  # noqa: ANN201
    ctx = browser.new_context(viewport=PHONE, base_url=own_server)
    page = ctx.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "tinh.quantri")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    yield page
    ctx.close()


def _no_horizontal_scroll(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_province_admin_creates_the_2026_program_from_2023_on_a_phone(admin_page):
    page = admin_page
    page.goto("/admin")
    page.get_by_role("link", name="Chương trình công tác", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/programs$"))
    assert _no_horizontal_scroll(page)

    # Copy 2023, with its tasks, into a 2026 draft.
    page.fill("input[name=year]", "2026")
    page.select_option("select[name=copy_from]", "2023")
    page.check("input[name=with_tasks]")
    page.get_by_role("button", name="Tạo bản nháp").click()
    page.wait_for_url(re.compile(r"/admin/programs/2026\?done=created"))
    assert "Bản nháp" in page.locator("h1").inner_text()
    assert _no_horizontal_scroll(page)

    # Publishing now lists what is missing: CT06's baseline for its reduction target.
    page.get_by_role("button", name="Ban hành chương trình").click()
    page.locator(".alert.error").wait_for()
    assert "Mục tiêu giảm cần có số liệu gốc" in page.locator(".alert.error").inner_text()

    # Enter the 2025 baseline with its source.
    page.get_by_role("link", name=re.compile(r"CT06")).click()
    page.wait_for_url(re.compile(r"/admin/programs/2026/indicators/CT06"))
    page.fill("input[name=baseline]", "150")
    page.fill("input[name=baseline_source]", "Báo cáo năm 2025 của Sở Tư pháp")
    page.get_by_role("button", name="Lưu chỉ tiêu").click()
    page.locator("text=Đã lưu.").wait_for()
    assert _no_horizontal_scroll(page)

    # Edit a target: the province's own supervisions (CT17) from 4 to 6.
    page.goto("/admin/programs/2026/indicators/CT17")
    first = page.locator("article.target").first
    assert first.locator("input[name=value]").input_value() == "4"
    first.locator("input[name=value]").fill("6")
    first.get_by_role("button", name="Lưu mục tiêu").click()
    page.locator("text=Đã lưu mục tiêu.").wait_for()
    assert page.locator("article.target").first.locator("input[name=value]").input_value() == "6"

    # Publish.
    page.goto("/admin/programs/2026")
    page.get_by_role("button", name="Ban hành chương trình").click()
    page.locator("text=Đã ban hành chương trình").wait_for()
    assert "Đã ban hành" in page.locator("h1").inner_text()
    assert "ít nhất 06 cuộc giám sát" not in page.content()  # the label kept the document's words
    assert "≥ 6" in page.locator("#indicators").inner_text()

    # The API (same signed-in browser) lists both years, both in force.
    r = page.request.get("/api/v1/programs")
    assert r.status == 200
    assert [(p["year"], p["status"]) for p in r.json()["data"]] == [(2026, "published"), (2023, "published")]
