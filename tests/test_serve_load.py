"""A short run of benchmarks.serve_load: concurrent requests all answered, stalled bodies time out, RSS flat."""

from __future__ import annotations

import pytest

from benchmarks import serve_load


@pytest.mark.slow
def test_a_short_load_run_passes_its_own_checks(drawn_cnn):
    load = ["--concurrent", "100", "--stalled", "20", "--body-timeout", "2", "--requests", "400"]
    bounds = ["--max-growth-mib", "20", "--time-limit", "180"]
    args = serve_load.parser().parse_args(["--ckpt", str(drawn_cnn), *load, *bounds])
    results = serve_load.run(args)
    assert serve_load.failures(results, args) == []
    assert results["concurrent"]["answered_200"] == 100 and results["stalled"]["timed_out_408"] == 20
    assert 0 < results["concurrent"]["p50_ms"] <= results["concurrent"]["p99_ms"]
    assert 2 <= results["stalled"]["slowest_408_s"] < 7  # the body deadline, not the client's patience
