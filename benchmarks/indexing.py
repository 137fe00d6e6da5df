"""Time and peak memory of indexing: the sample library, and a generated 5,000-lesson folder.

Each step runs in a fresh process so its peak RSS is its own. The baseline in the same run
is "scan only" (read and parse every source, no database); other rows report a ratio to it.
Run: `python -m benchmarks.indexing` (or `make bench`).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

STEP = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from bot.config import Settings, load_config
    settings = Settings(data_dir=Path(sys.argv[2]), config_path=Path(sys.argv[3]))
    start = time.perf_counter()
    if sys.argv[1] == "scan":
        from content_index.indexer import scan_all
        count = len(scan_all(load_config(settings.config_path)).items)
    elif sys.argv[1] == "open":
        from bot.app import open_bot
        count = len(open_bot(settings).index)
    else:
        from bot.app import prepare
        summary = prepare(settings)
        count = summary.added + summary.updated + summary.unchanged
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "items": count}))
    """
)

WORDS = [
    "report",
    "meeting",
    "customer",
    "feedback",
    "excel",
    "pivot",
    "table",
    "calendar",
    "expense",
    "claim",
    "privacy",
    "data",
    "escalation",
    "python",
    "automate",
    "status",
    "update",
    "manager",
    "team",
    "goal",
    "quarter",
    "budget",
    "forecast",
    "invoice",
    "travel",
    "booking",
    "security",
    "password",
    "phishing",
    "onboarding",
    "mentor",
    "review",
    "slide",
    "presentation",
    "email",
    "inbox",
    "rule",
]


def generate_library(folder: Path, count: int, seed: int = 7) -> Path:
    """Lessons of realistic length (about 250 words) with full front matter."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pillars = ["customer-trust", "efficiency", "people-growth"]
    for n in range(count):
        title = " ".join(rng.choice(WORDS) for _ in range(5)).capitalize()
        body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(50)) for _ in range(5))
        meta = {
            "id": f"lesson-{n:05d}",
            "title": title,
            "summary": " ".join(rng.choice(WORDS) for _ in range(20)),
            "skills": rng.sample(WORDS, 3),
            "pillar": pillars[n % 3],
            "impact": "Enables automation for Q3 efficiency goals",
            "audience": ["everyone"],
            "duration_minutes": rng.randint(2, 15),
        }
        (folder / f"lesson-{n:05d}.md").write_text(f"---\n{yaml.safe_dump(meta)}---\n# {title}\n\n{body}\n")
    return folder


def run_step(step: str, data_dir: Path, config: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", STEP, step, str(data_dir), str(config)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(label: str, config: Path, work: Path) -> list[tuple[str, str, dict[str, float]]]:
    data_dir = work / f"data-{label}"
    rows = [(label, "scan only (baseline)", run_step("scan", data_dir, config))]
    rows.append((label, "cold index (migrate + store)", run_step("index", data_dir, config)))
    rows.append((label, "re-index, nothing changed", run_step("index", data_dir, config)))
    # With the semantic tier installed the first open also embeds every lesson (cached afterwards).
    rows.append((label, "open: build search index", run_step("open", data_dir, config)))
    rows.append((label, "open again (vectors cached)", run_step("open", data_dir, config)))
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample = yaml.safe_load((ROOT / "app.yaml").read_text())
        for source in sample["content_sources"]:
            source["path"] = str(ROOT / source["path"])
        (work / "sample.yaml").write_text(yaml.safe_dump(sample))
        big = generate_library(work / "big", 5000)
        (work / "big.yaml").write_text(
            yaml.safe_dump(
                {
                    "pillars": [
                        {"id": p, "name": p} for p in ("customer-trust", "efficiency", "people-growth")
                    ],
                    "content_sources": [{"name": "big", "type": "markdown", "path": str(big)}],
                }
            )
        )
        rows = measure("sample library", work / "sample.yaml", work)
        rows += measure("5,000 lessons", work / "big.yaml", work)
    print("| library | step | items | seconds | x scan | peak MB | x scan |")
    print("|---|---|---|---|---|---|---|")
    base: dict[str, dict[str, float]] = {}
    for label, step, result in rows:
        base.setdefault(label, result)
        ref = base[label]
        print(
            f"| {label} | {step} | {int(result['items'])} | {result['seconds']:.3f} | "
            f"{result['seconds'] / ref['seconds']:.2f} | {result['peak_mb']:.0f} | "
            f"{result['peak_mb'] / ref['peak_mb']:.2f} |"
        )


if __name__ == "__main__":
    main()
