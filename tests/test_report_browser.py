"""The report on the demo database, opened in headless Chromium on a phone-sized screen.

A small JS probe measures every chart as the browser laid it out (non-zero size, bars drawn, no
sideways scrolling of the page), then Chromium takes a screenshot, saved as
reports/report-phone.png. Skips when Chromium is missing, except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from tests.conftest import ROOT

WIDTH = 412  # a common phone's CSS width
PROBE = """
<script>
window.addEventListener("load", () => {
  const charts = [...document.querySelectorAll("figure.chart")].map((figure) => {
    const svg = figure.querySelector("svg").getBoundingClientRect();
    const bars = [...figure.querySelectorAll("g[id^=bar-] path")]
      .map((bar) => bar.getBoundingClientRect())
      .filter((box) => box.width > 0 && box.height > 0).length;
    return { table: figure.dataset.table, width: svg.width, height: svg.height, bars };
  });
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    charts, page: document.documentElement.scrollWidth, height: document.body.scrollHeight,
    viewport: window.innerWidth,
  });
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "headless Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the browser test to run: {reason}")
        pytest.skip(reason)
    return found


def run_chromium(browser: str, *args: str) -> str:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_the_demo_report_renders_its_charts_on_a_phone(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    browser = chromium()
    settings = make_settings()
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]
    assert main([*args, "demo", "seed", "--people", "40", "--weeks", "8", "--now", "2026-11-27T12:00"]) == 0
    assert "seeded: " in capsys.readouterr().out
    out = tmp_path / "reports"
    assert main([*args, "report", "--since", "30d", "--until", "2026-11-27T12:00", "--out", str(out)]) == 0
    page = out / "report.html"

    probed = tmp_path / "probed.html"
    probed.write_text(
        page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    dom = run_chromium(browser, f"--window-size={WIDTH},900", "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run"
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    assert probe["viewport"] <= 520, probe["viewport"]  # headless Chromium's narrowest window is 500
    charts = {chart["table"]: chart for chart in probe["charts"]}
    assert set(charts) >= {
        "weekly_active_learners",
        "questions",
        "nudge_responses",
        "pathways_by_pillar",
        "learning_to_applying",
        "gap_clusters",
        "ratings_by_pillar",
        "purpose_pulse",
    }
    for name, chart in charts.items():
        assert chart["width"] > 300 and chart["height"] > 100, name  # fills the phone's width
        assert chart["width"] <= probe["viewport"], name
        assert chart["bars"] >= 1, name  # bars were drawn with a size
    assert charts["weekly_active_learners"]["bars"] == 5  # five ISO weeks touch the 30 days
    assert probe["page"] <= probe["viewport"]  # never scrolls sideways; wide tables scroll in their box

    shot = ROOT / "reports" / "report-phone.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    run_chromium(browser, f"--window-size={WIDTH},{probe['height']}", f"--screenshot={shot}", page.as_uri())
    assert shot.stat().st_size > 50_000  # a real picture of the page, not a blank one
