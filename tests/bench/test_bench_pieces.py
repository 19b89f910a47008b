"""The benchmarks' own logic: percentiles, the order check against the reference run, the
targets, the tables written into docs/benchmarks.md, the lock store's endpoints, and the
throwaway Redis server. (The figures themselves are measured by `make bench`, never asserted.)"""

from __future__ import annotations

import socket

import pytest
import yaml

from bench import report
from bench.drive import Reference, check_order
from bench.scale import endpoints_with_redis_lock_store
from bench.stats import percentile, summary
from sandbox.redis_server import start_throwaway_redis


def test_percentiles_interpolate_between_ranks():
    values = [40.0, 10.0, 30.0, 20.0]  # sorted: 10 20 30 40
    assert percentile(values, 0.0) == 10.0
    assert percentile(values, 1.0) == 40.0
    assert percentile(values, 0.5) == 25.0
    assert percentile(values, 0.99) == pytest.approx(39.7)
    assert percentile([], 0.5) is None
    assert summary([]) == {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None,
                           "max": None}
    assert summary([1.0, 2.0, 3.0])["mean"] == 2.0


def test_reference_counts_the_dms_of_each_turn():
    reference = Reference([["a", "b", "c"], ["d"], ["e", "f"]])
    assert reference.cumulative == [3, 4, 6]
    assert reference.texts == ["a", "b", "c", "d", "e", "f"]


@pytest.mark.parametrize(("received", "expected"), [
    (["a", "b", "c"], {"duplicates": 0, "missing": 0, "out_of_order": 0}),
    (["a", "c", "b"], {"duplicates": 0, "missing": 0, "out_of_order": 1}),
    (["a", "b", "b", "c"], {"duplicates": 1, "missing": 0, "out_of_order": 0}),
    (["a", "c"], {"duplicates": 0, "missing": 1, "out_of_order": 0}),
    (["c", "b", "a", "a"], {"duplicates": 1, "missing": 0, "out_of_order": 2}),
])
def test_order_check_against_the_reference(received, expected):
    assert check_order(received, ["a", "b", "c"]) == expected


def test_order_check_with_a_text_sent_twice_on_purpose():
    # The same text twice in the reference is no duplicate; a third copy is.
    assert check_order(["x", "y", "x"], ["x", "y", "x"])["duplicates"] == 0
    assert check_order(["x", "y", "x", "x"], ["x", "y", "x"])["duplicates"] == 1


def test_targets_are_met_missed_or_not_measured():
    checks = {c["key"]: c["met"] for c in report.targets({
        "x_rest_throughput_ratio": 0.96, "x_p50_overhead_ms": 7.5, "ack_p99_ms": None,
        "ordering_violations": 0, "duplicates": 2})}
    assert checks["x_rest_throughput_ratio"] is True
    assert checks["x_p50_overhead_ms"] is False
    assert checks["ack_p99_ms"] is None
    assert checks["ordering_violations"] is True
    assert checks["duplicates"] is False


def test_queue_figure_is_the_slowest_median_over_backends_api_and_page():
    def measured(api, page):
        return {"api": {"ms": {"p50": api}}, "page": page and {"ms": {"p50": page}}}

    queue = {"sqlite": {"realistic": measured(12.0, 30.0)},
             "postgresql": {"realistic": measured(18.0, None)}}
    assert report.queue_ms(queue, "realistic") == 30.0
    assert report.queue_ms(queue, "all_open") is None


def test_doc_tables_replace_only_what_is_between_the_markers(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nintro\n\n{report.BEGIN}\nold table\n{report.END}\n\n"
                   "## Reading\n\nby hand\n")
    report.write_doc("| new | table |\n", doc)
    text = doc.read_text()
    assert "old table" not in text and "| new | table |" in text
    assert text.startswith("# Benchmarks\n\nintro\n") and text.endswith("## Reading\n\nby hand\n")
    report.write_doc("| newer |\n", doc)
    assert doc.read_text().count(report.BEGIN) == 1 and "| new | table |" not in doc.read_text()


def test_lock_store_endpoints_keep_the_project_endpoints(tmp_path):
    path = endpoints_with_redis_lock_store(tmp_path, 6390)
    endpoints = yaml.safe_load(path.read_text())
    assert endpoints["lock_store"] == {"type": "redis", "url": "127.0.0.1", "port": 6390,
                                       "db": 0, "key_prefix": "bench"}
    assert "tracker_store" in endpoints and "action_endpoint" in endpoints


def test_throwaway_redis_answers_on_loopback_then_goes():
    server = start_throwaway_redis()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(16).startswith(b"+PONG")
            sock.sendall(b"CONFIG GET save\r\n")
            assert b"save" in sock.recv(256)
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert not server.base.exists()


def test_machine_description_on_a_clean_checkout_and_without_tools() -> None:
    # `git status --porcelain` prints nothing on a clean clone (CI): that is not an error.
    assert report._command_output(["true"]) == ""
    assert report._command_output(["false"]) is None
    assert report._command_output(["/nonexistent/tool"]) is None
    described = report.machine()
    assert described["cores"] >= 1
