"""What the real-browser tests share (tests/test_browser.py: JupyterLab; tests/test_web.py: the
course's web page): Debian's Chromium driven by Playwright, and a free local port.

Playwright cannot download browsers here, so Chromium comes from apt (``ASL_CHROMIUM`` names
another). Under ``CI=true`` a missing browser fails the test instead of skipping it."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Callable, Iterator

CHROMIUM = os.environ.get("ASL_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def playwright(unavailable: Callable[[str], None]) -> Iterator:
    """Playwright's sync API for a module's tests; ``unavailable(reason)`` when there is none."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements.txt)")
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as api:
        yield api


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
