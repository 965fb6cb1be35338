"""Lighthouse (mobile) on the pages a citizen meets first, against their goals.

Starts ``portal run`` exactly as ``make run`` does (migrate, seed the demo, serve, worker) on a
free port with a scratch data directory, logs in as the demo's ``zhangsan`` and ``lisi``
through the development identity provider, and runs npm's ``lighthouse`` (pinned in
package.json) with Debian's chromium, mobile form factor and its default simulated throttling,
on ``/``, ``/verify``, ``/publicity``, a case page, the mailbox and 我的待办. Prints each
page's performance and accessibility scores with the metrics behind them, and the machine's
load: the goal (performance >= 95, accessibility 100) holds on an idle machine, and a busy one
slows the simulated CPU too. Exit status 1 when accessibility is below 100 anywhere, or
performance below 95 while the load average was under one per core.

    .venv/bin/python bench/lighthouse.py            # or: make lighthouse

In smoke mode (``BENCH_SMOKE=1``, ``make bench-smoke``) it is skipped: six Lighthouse runs and
``portal run`` take minutes, past the smoke run's budget; ``make lighthouse`` runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import html  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from bench.harness import SMOKE, free_port  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
CSRF = re.compile(r'(?:name="csrf_token" value="|"X-CSRF-Token": ")([^"]+)"')
ACTION = re.compile(r'<form method="post" action="([^"]+)"')
PERFORMANCE_GOAL, ACCESSIBILITY_GOAL = 95, 100


def serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port),
           "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("DATABASE_URL", None)
    env.pop("OIDC_ISSUER", None)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "run"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"portal run exited early, see {data_dir / 'server.log'}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit("portal run did not become healthy")


def log_in(url: str, login: str) -> str:
    """The session cookie of ``login`` after the development identity provider's flow."""
    with httpx.Client(base_url=url, follow_redirects=False) as http:
        page = http.get("/login")
        step = http.post("/login", data={"csrf_token": CSRF.search(page.text).group(1)})  # type: ignore[union-attr]
        authorize = http.get(step.headers["location"])
        action = html.unescape(ACTION.search(authorize.text).group(1))  # type: ignore[union-attr]
        token = CSRF.search(authorize.text).group(1)  # type: ignore[union-attr]
        back = http.post(action, data={"csrf_token": token, "login": login, "decision": "allow"})
        http.get(back.headers["location"])
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def lighthouse(page_url: str, cookie: str | None, out: Path) -> dict[str, float]:
    command = [str(LIGHTHOUSE), page_url, "--only-categories=performance,accessibility",
               "--form-factor=mobile", "--output=json", f"--output-path={out}", "--quiet",
               f"--chrome-flags={CHROME_FLAGS}"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    report = json.loads(out.read_text())
    audits = report["audits"]
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
    }


def main() -> int:
    if SMOKE:
        print("lighthouse: skipped in smoke mode (minutes of Lighthouse runs; make lighthouse runs it)")
        return 0
    if not LIGHTHOUSE.exists():
        raise SystemExit("npm's lighthouse is missing: run `npm ci` (make test does)")
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as scratch:
        data_dir = Path(scratch)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = serve(data_dir, port)
        try:
            zhangsan, lisi = log_in(url, "zhangsan"), log_in(url, "lisi")
            case = json.loads((data_dir / "demo-cases.json").read_text())[0]
            pages = [("/", None), ("/verify", None), ("/publicity", None),
                     (f"/cases/{case}", zhangsan), ("/mailbox", lisi), ("/todo", zhangsan)]
            load_before = os.getloadavg()[0]
            results = {path: lighthouse(url + path, cookie, data_dir / "report.json")
                       for path, cookie in pages}
            load_after = os.getloadavg()[0]
        finally:
            process.terminate()
            process.wait(timeout=30)
    cores = os.cpu_count() or 1
    idle = max(load_before, load_after) < cores
    version = json.loads((ROOT / "node_modules" / "lighthouse" / "package.json").read_text())["version"]
    print(f"Lighthouse {version} (mobile, simulated throttling), "
          f"load average {load_before:.1f} -> {load_after:.1f} on {cores} cores"
          f"{'' if idle else ' (busy: performance figures are pessimistic)'}")
    print(f"{'page':<24}{'perf':>5}{'a11y':>5}{'FCP ms':>8}{'LCP ms':>8}{'TBT ms':>8}{'CLS':>7}{'kB':>7}")
    failed = False
    for path, r in results.items():
        shown = path if len(path) < 23 else path[:20] + "…"
        print(f"{shown:<24}{r['performance']:>5.0f}{r['accessibility']:>5.0f}{r['fcp_ms']:>8.0f}"
              f"{r['lcp_ms']:>8.0f}{r['tbt_ms']:>8.0f}{r['cls']:>7.3f}{r['bytes'] / 1000:>7.1f}")
        failed |= r["accessibility"] < ACCESSIBILITY_GOAL or (idle and r["performance"] < PERFORMANCE_GOAL)
    worst = min(r["performance"] for r in results.values())
    print(f"goal: performance >= {PERFORMANCE_GOAL} (lowest {worst:.0f}), accessibility "
          f"{ACCESSIBILITY_GOAL} everywhere: {'missed' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
