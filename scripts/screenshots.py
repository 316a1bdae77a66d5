"""Screenshots of every dashboard page of a running Lookout, for the README.

    .venv/bin/python app.py &                      # the demo; let it run a few minutes
    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8050 docs/screenshots

Headless Debian Chromium (DASH_TEST_CHROMEPATH or /usr/bin/chromium), 1400 px
wide, each page waited for until every graph has drawn (the same wait as the
browser tests). Add ``--range 1h`` to pick the time range.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboards.conftest import chrome_options, wait_rendered

PAGES = {"overview": "/", "revenue": "/revenue", "cache": "/cache", "latency": "/latency",
         "postgres": "/postgres", "alerts": "/alerts"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("out", type=Path)
    ap.add_argument("--range", default="15m")
    ap.add_argument("--dark", action="append", default=["cache"], help="also a dark shot of this page")
    args = ap.parse_args()
    from dash.testing.browser import Browser

    args.out.mkdir(parents=True, exist_ok=True)
    with Browser(browser="Chrome", headless=False, options=[chrome_options()], percy_run=False,
                 wait_timeout=30) as br:
        for name, path in PAGES.items():
            br.driver.get(f"{args.url.rstrip('/')}{path}?range={args.range}")
            wait_rendered(br, timeout=30)
            br.driver.save_screenshot(str(args.out / f"{name}.png"))
            if name in args.dark:
                br.find_element("#dark-switch").click()
                wait_rendered(br, timeout=30)
                br.driver.save_screenshot(str(args.out / f"{name}-dark.png"))
                br.find_element("#dark-switch").click()  # persisted in localStorage: back to light
            print(args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
