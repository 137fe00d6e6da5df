"""Speed, memory and quality tables; run all with `make bench` (python -m benchmarks)."""
