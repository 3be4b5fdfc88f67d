"""TeamTalk benchmarks: `make bench` (= `.venv/bin/python -m bench.run_all`); see bench/README.md."""
