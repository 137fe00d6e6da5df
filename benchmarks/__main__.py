"""Run every benchmark and print its table."""

from benchmarks import indexing

print("## Indexing\n")
indexing.main()
