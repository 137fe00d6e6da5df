"""Run every benchmark and print its table."""

from benchmarks import indexing, nudges, search_quality, search_speed, slack_http

print("## Indexing\n")
indexing.main()
print("\n## Slack over HTTP\n")
slack_http.main([])
print("\n## Search quality\n")
search_quality.main()
print("\n## Search speed and size\n")
search_speed.main([])
print("\n## Nudges: plan and deliver for 10,000 learners\n")
nudges.main([])
