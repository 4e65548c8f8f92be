"""Screenshot app pages in headless Chromium (development aid).

    python scripts/screenshot.py output_size --lang zh --width 400 --out /tmp/shots

Starts `streamlit run app.py` on a free loopback port, opens each page
(url path = page file stem) and writes full-page PNGs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from scripts.lab_server import launch_chromium, start_lab_server, stop_lab_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", nargs="+", help="url paths, e.g. output_size (use '' for home)")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--wait", type=float, default=6.0, help="seconds to let the page settle")
    parser.add_argument("--out", default="/tmp/shots")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server, url = start_lab_server(timeout_s=60)
    try:
        with launch_chromium() as browser:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            for name in args.pages:
                page.goto(f"{url}/{name}?lang={args.lang}")
                page.wait_for_selector("[data-testid='stApp']", timeout=60000)
                time.sleep(args.wait)
                path = out / f"{name or 'home'}_{args.lang}_{args.width}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path)
    finally:
        stop_lab_server(server)


if __name__ == "__main__":
    main()
