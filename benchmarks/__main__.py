"""Run every benchmark and print its table."""

from benchmarks import indexing, slack_http

print("## Indexing\n")
indexing.main()
print("\n## Slack over HTTP\n")
slack_http.main([])
