"""Run every benchmark and print its table."""

import subprocess
import sys

from benchmarks import indexing, nudges, outbox_faults, search_speed, slack_http

print("## Indexing\n")
indexing.main()
print("\n## Slack over HTTP\n")
slack_http.main([])
print("\n## Search quality\n", flush=True)
# In its own process: the semantic model must not raise later benchmarks' peak memory.
subprocess.run([sys.executable, "-m", "benchmarks.search_quality"], check=True)
print("\n## Search speed and size\n")
search_speed.main([])
from content_index.semantic import unavailable_reason  # noqa: E402

if unavailable_reason() is None:
    print()
    search_speed.main(["--tier", "hybrid"])
print("\n## Nudges: plan and deliver for 10,000 learners\n")
nudges.main([])
print("\n## The outbox under faults: slow, flaky Slack, a SIGKILL (300 rows; README: 800)\n", flush=True)
outbox_faults.main(["--rows", "300"])
