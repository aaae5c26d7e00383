"""Field benchmark: the pages a commune cadre opens, on a phone line with one bar of signal.

Chromium (headless, 390×844) over the DevTools protocol, with the slow-3G profile of issue 13:
`Network.emulateNetworkConditions` 400 ms round trip, 400 kbit/s down and up, and
`Emulation.setCPUThrottlingRate` 4. For each page, cold (a new browser profile: no HTTP cache,
no service worker) and warm (the same page opened again: HTTP cache and service worker in place):

- bytes: compressed bytes received (`encodedDataLength` of every response, headers included)
  until the page is interactive; requests: how many;
- LCP: the largest contentful paint (PerformanceObserver, from navigation start);
- TTI: time to interactive, taken as the later of DOMContentLoaded's end (the deferred htmx and
  entry.js have run) and the end of the last long task (> 50 ms) before it settles.

Then tap-to-"Đã lưu": on the warm entry page, the time from leaving a field (its `change`) to
its "Đã lưu" (the `.is-saved` field swapped in), measured in the page. Floor, measured in the
same run on the same line: a cold fetch of a 290-byte static file (one connection and one round
trip) and a warm one (one round trip): no page can load faster than these.

The server is uvicorn on a free port with its own throw-away SQLite database (migrated, seeded
with the demo users and demo figures). Sign-in happens outside the throttled line.

    .venv/bin/python bench/field_bench.py            # prints the table (markdown)
"""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# APP_ROOT: another checkout of the app to measure (e.g. the previous release, for before/after).
ROOT = Path(os.environ.get("APP_ROOT") or Path(__file__).resolve().parents[1])
CHROMIUM = "/usr/bin/chromium"
RTT_MS, KBPS, CPU = 400, 400, 4
PHONE = {"width": 390, "height": 844}
PASSWORD = "demo2023"
RUNS = int(os.environ.get("RUNS", "3"))  # each figure is the median of this many runs
PAGES = [  # (label, user or None for anonymous, path)
    ("sign-in", None, "/login"),
    ("entry (commune)", "xa.nhaplieu", "/entry/04720/2023-06"),
    ("villages page (9 × 6)", "xa.nhaplieu", "/entry/04720/2023-06/villages"),
    ("village's own page", "xa.nhaplieu", "/entry/04720-01/2023-06"),
    ("dashboard", "xa.nhaplieu", "/dashboard/04720?period=2023-06"),
    ("monthly report", "xa.nhaplieu", "/reports/04720/2023-06"),
]

INIT = """
window.__longTasks = [];
try { new PerformanceObserver(l => l.getEntries().forEach(e => window.__longTasks.push(e.startTime + e.duration)))
        .observe({type: 'longtask', buffered: true}); } catch (e) {}
window.__lcp = 0;
try { new PerformanceObserver(l => l.getEntries().forEach(e => { window.__lcp = e.startTime; }))
        .observe({type: 'largest-contentful-paint', buffered: true}); } catch (e) {}
"""
METRICS = """() => new Promise(resolve => setTimeout(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const dcl = nav.domContentLoadedEventEnd;
  const lastLong = Math.max(0, ...window.__longTasks);
  const bodies = [nav, ...performance.getEntriesByType('resource')]
    .filter(e => e.startTime <= Math.max(dcl, lastLong)).reduce((n, e) => n + e.encodedBodySize, 0);
  resolve({lcp: window.__lcp, tti: Math.max(dcl, lastLong), dcl: dcl, bodies: bodies});
}, 300))"""
TAP = """() => new Promise(resolve => {
  const input = document.querySelector('#CT17-value');
  const field = document.querySelector('#f-CT17');
  const parent = field.parentNode;
  input.value = String(Number(input.value || '0') + 1);
  const start = performance.now();
  new MutationObserver((_, obs) => {
    const now = document.querySelector('#f-CT17');
    if (now !== field && now.classList.contains('is-saved')) { obs.disconnect(); resolve(performance.now() - start); }
  }).observe(parent, {childList: true, subtree: true, attributes: true});
  input.dispatchEvent(new Event('change', {bubbles: true}));
})"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server() -> tuple[subprocess.Popen, str]:
    tmp = Path(tempfile.mkdtemp(prefix="mttq-field-bench-"))
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "ENVIRONMENT": "local",
           "SEED_DEMO_USERS": "true", "SEED_DEMO_VALUES": "true", "LOGIN_RATE_LIMIT": "1000/minute",
           "SECRET_KEY": "field-bench-secret-key-not-for-production"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


class Line:
    """The throttled line and a byte/request counter on one page's DevTools session."""

    def __init__(self, page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.bytes = 0
        self.requests = 0
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": RTT_MS, "downloadThroughput": KBPS * 1000 / 8,
            "uploadThroughput": KBPS * 1000 / 8})
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU})

    def _finished(self, event: dict) -> None:
        self.bytes += int(event.get("encodedDataLength", 0))

    def _sent(self, _event: dict) -> None:
        self.requests += 1

    def reset(self) -> None:
        self.bytes = self.requests = 0


class WorkerLine:
    """The same line on the service worker, which fetches the pages it serves: attached from a
    browser-level DevTools session (its requests are not the page's), throttled and counted."""

    def __init__(self, browser, line: Line) -> None:
        self.cdp = browser.new_browser_cdp_session()
        self.line = line
        self.sessions: list[str] = []
        self.cdp.on("Target.receivedMessageFromTarget", self._message)

    def attach(self, origin: str) -> bool:
        for t in self.cdp.send("Target.getTargets")["targetInfos"]:
            if t["type"] == "service_worker" and t["url"].startswith(origin):
                sid = self.cdp.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": False})["sessionId"]
                self.sessions.append(sid)
                for i, (method, params) in enumerate([
                    ("Network.enable", {}),
                    ("Network.emulateNetworkConditions", {
                        "offline": False, "latency": RTT_MS, "downloadThroughput": KBPS * 1000 / 8,
                        "uploadThroughput": KBPS * 1000 / 8}),
                    ("Emulation.setCPUThrottlingRate", {"rate": CPU})], start=1):
                    self.cdp.send("Target.sendMessageToTarget", {
                        "sessionId": sid, "message": json.dumps({"id": i, "method": method, "params": params})})
        return bool(self.sessions)

    def _message(self, event: dict) -> None:
        msg = json.loads(event["message"])
        if msg.get("method") == "Network.loadingFinished":
            self.line.bytes += int(msg["params"].get("encodedDataLength", 0))
        elif msg.get("method") == "Network.requestWillBeSent":
            self.line.requests += 1


def _sign_in(context, base: str, user: str) -> None:
    page = context.request.get(base + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text()).group(1)
    r = context.request.post(base + "/login", form={"username": user, "password": PASSWORD,
                                                   "csrf_token": token}, max_redirects=0)
    assert r.status == 303, r.status


def _open(page, line: Line, url: str) -> dict:
    line.reset()
    page.goto(url, wait_until="load")
    m = page.evaluate(METRICS)
    return {"bytes": line.bytes, "requests": line.requests, "lcp": m["lcp"], "tti": m["tti"], "bodies": m["bodies"]}


def measure(browser, base: str, user: str | None, path: str) -> tuple[dict, dict]:
    context = browser.new_context(viewport=PHONE, base_url=base)
    try:
        if user:
            _sign_in(context, base, user)
        page = context.new_page()
        # Open the site's renderer on a document with no subresources before throttling, so the
        # line applies to the page's own request.
        page.goto(base + "/openapi.json")
        page.add_init_script(INIT)
        line = Line(page)
        cold = _open(page, line, base + path)
        page.wait_for_timeout(4000)  # the service worker installs and keeps its pages (not counted)
        worker = WorkerLine(browser, line)
        worker.attach(base)
        page.goto("about:blank")
        warm = _open(page, line, base + path)
        worker.cdp.detach()
        return cold, warm
    finally:
        context.close()


def tap_to_saved(browser, base: str) -> list[float]:
    context = browser.new_context(viewport=PHONE, base_url=base)
    try:
        _sign_in(context, base, "xa.nhaplieu")
        page = context.new_page()
        page.goto(base + "/entry/04720/2023-06")
        Line(page)
        page.wait_for_timeout(500)
        taps = []
        for _ in range(5):
            taps.append(page.evaluate(TAP))
            page.wait_for_timeout(300)
        return taps
    finally:
        context.close()


def floor(browser, base: str) -> tuple[float, float]:
    """A 290-byte static file over the same line: opened cold (connection and one round trip),
    then fetched again on the open connection (one round trip)."""
    context = browser.new_context(viewport=PHONE, base_url=base)
    try:
        with urllib.request.urlopen(base + "/login") as r:
            url = re.search(r'src="(/static/app\.js(?:\?v=[0-9a-f]+)?)"', r.read().decode()).group(1)
        page = context.new_page()
        Line(page)
        page.goto(base + url)
        first = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")
        again = page.evaluate("""async (url) => { const t = performance.now();
            await (await fetch(url, {cache: 'no-store'})).text(); return performance.now() - t; }""", base + url)
        return first, again
    finally:
        context.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    proc, base = _start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            rows = []
            for label, user, path in PAGES:
                runs = [measure(browser, base, user, path) for _ in range(RUNS)]
                rows.append((label, path, runs))
            taps = tap_to_saved(browser, base)
            first_fetch, next_fetch = floor(browser, base)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    def med(runs: list, which: int, key: str) -> float:
        return statistics.median(r[which][key] for r in runs)

    print(f"Slow 3G: {RTT_MS} ms RTT, {KBPS} kbit/s, CPU ×{CPU}; Chromium {PHONE['width']}×{PHONE['height']}; "
          f"median of {RUNS} runs\n")
    print("| page | cold KB bodies | cold KB wire | cold req | cold LCP ms | cold TTI ms | warm KB wire | warm req "
          "| warm LCP ms | warm TTI ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, path, runs in rows:
        print(f"| {label} `{path}` | {med(runs, 0, 'bodies') / 1024:.1f} | {med(runs, 0, 'bytes') / 1024:.1f} | "
              f"{med(runs, 0, 'requests'):.0f} | "
              f"{med(runs, 0, 'lcp'):.0f} | {med(runs, 0, 'tti'):.0f} | {med(runs, 1, 'bytes') / 1024:.1f} | "
              f"{med(runs, 1, 'requests'):.0f} | {med(runs, 1, 'lcp'):.0f} | {med(runs, 1, 'tti'):.0f} |")
    print(f"\nTap to \"Đã lưu\" (entry page, 5 saves): median {statistics.median(taps):.0f} ms "
          f"(each: {', '.join(f'{t:.0f}' for t in taps)})")
    print(f"Floor on the same line: a 290-byte static file {first_fetch:.0f} ms, again {next_fetch:.0f} ms")
    entry = next(runs for label, _p, runs in rows if label.startswith("entry"))
    ok = med(entry, 0, "bodies") <= 30 * 1024 and med(entry, 0, "lcp") <= 1500
    print(f"\nEntry page cold: {med(entry, 0, 'bodies') / 1024:.1f} KB compressed bodies (≤ 30 KB; "
          f"{med(entry, 0, 'bytes') / 1024:.1f} KB with HTTP/1.1 headers), LCP {med(entry, 0, 'lcp'):.0f} ms "
          f"(≤ 1500 ms): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
