"""The benchmark's results: machine description, headline figures and targets, tables
(printed, and written into ``docs/benchmarks.md`` between markers), and the JSON file."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from bench import live_reading

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
# Section 6, the live hour, has a block of its own: `python -m bench.live_hour` rewrites it
# alone, `make bench` both.
LIVE_BEGIN, LIVE_END = "<!-- bench:live-hour:begin -->", "<!-- bench:live-hour:end -->"
PACKAGES = ("rasa", "rasa-sdk", "tensorflow", "sanic", "SQLAlchemy", "aiohttp", "tweepy",
            "psycopg2-binary", "redis")

# (key, comparison, target): the targets for the headline figures.
TARGETS = (
    ("x_rest_throughput_ratio", ">=", 0.95),
    ("x_p50_overhead_ms", "<=", 5.0),
    ("ack_p99_ms", "<=", 20.0),
    ("desk_reply_p50_ms", "<=", 50.0),
    ("queue_10k_ms", "<=", 200.0),
    ("two_process_speedup", ">=", 1.5),
    ("ordering_violations", "==", 0),
    ("duplicates", "==", 0),
    # The live hour on X (issue #15), read from the run's records (bench/live_reading.py).
    ("live_hour_sends_into_spent_window", "==", 0),
    ("live_hour_p0_not_in_first_window_with_budget", "==", 0),
    ("live_hour_first_reply_beyond_bound", "==", 0),
    ("live_hour_arrival_order_inversions", "==", 0),
    ("live_hour_dms_per_triage_median", "<=", 4),
)


# --------------------------------------------------------------------------- machine


def _command_output(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine() -> dict[str, Any]:
    from sandbox.postgres import postgres_bindir

    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    bindir = postgres_bindir()
    postgres = _command_output([str(bindir / "postgres"), "--version"]) if bindir else None
    redis = (_command_output(["redis-server", "--version"])
             if shutil.which("redis-server") else None)
    commit = _command_output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _command_output(["git", "-C", str(ROOT), "status", "--porcelain",
                             "--untracked-files=no"])
    return {
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "cpu": _cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
        "postgresql": postgres,
        "redis": redis,
        "commit": (commit or "?") + ("+changes" if dirty else ""),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }


# --------------------------------------------------------------------------- headline


def _size(results: dict[str, Any], people: int) -> dict[str, Any] | None:
    for row in (results.get("conversations") or {}).get("sizes", []):
        if row["people"] == people:
            return row
    return None


def _max(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def queue_ms(queue: dict[str, Any], dataset: str) -> float | None:
    """The slowest median over the backends, the API and the page."""
    values = []
    for backend in queue.values():
        measured = backend.get(dataset) or {}
        for what in ("api", "page"):
            if measured.get(what):
                values.append(measured[what]["ms"]["p50"])
    return _max(values)


def live_hour_headline(live: dict[str, Any] | None) -> dict[str, Any]:
    """The live hour's target figures, read again from its records (None: not measured)."""
    if not live or not live.get("per_person"):
        return {key: None for key, _, _ in TARGETS if key.startswith("live_hour_")}
    read = live_reading.reading(live)
    return {
        "live_hour_sends_into_spent_window": live.get("sends_into_spent_window"),
        "live_hour_p0_not_in_first_window_with_budget": len(read["p0_late"]),
        "live_hour_first_reply_beyond_bound": len(read["first_reply_late"]),
        "live_hour_arrival_order_inversions": read["arrival_order_inversions"],
        "live_hour_dms_per_triage_median": live.get("dms_per_triage_median"),
    }


def headline(results: dict[str, Any]) -> dict[str, Any]:
    solo, fifty = _size(results, 1) or {}, _size(results, 50) or {}
    ack = results.get("ack") or {}
    door = (ack.get("doors") or {}).get(ack.get("headline_door"), {})
    reply = (results.get("desk") or {}).get("reply") or {}
    queue = (results.get("desk") or {}).get("queue") or {}
    scale = results.get("scale") or {}
    resources = results.get("resources") or {}
    return {
        "x_rest_throughput_ratio": fifty.get("throughput_ratio"),
        "x_p50_overhead_ms": solo.get("p50_overhead_ms"),
        "x_p50_overhead_ms_at_50": fifty.get("p50_overhead_ms"),
        "ack_p50_ms": (door.get("ack_ms") or {}).get("p50"),
        "ack_p99_ms": (door.get("ack_ms") or {}).get("p99"),
        "ack_p99_ms_postgresql": ((((results.get("ack_postgresql") or {}).get("doors") or {})
                                   .get(ack.get("headline_door")) or {}).get("ack_ms")
                                  or {}).get("p99"),
        "desk_reply_p50_ms": (reply.get("to_dm_ms") or {}).get("p50"),
        "desk_reply_p99_ms": (reply.get("to_dm_ms") or {}).get("p99"),
        "queue_10k_ms": queue_ms(queue, "realistic"),
        "queue_10k_all_open_ms": queue_ms(queue, "all_open"),
        "two_process_speedup": scale.get("speedup"),
        "ordering_violations": scale.get("ordering_violations"),
        "duplicates": scale.get("duplicates"),
        "missing": scale.get("missing"),
        "rasa_rss_mb": resources.get("rasa_rss_mb"),
        "actions_rss_mb": resources.get("actions_rss_mb"),
        "train_s": resources.get("train_s"),
        **live_hour_headline(results.get("live_hour")),
    }


def targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for key, comparison, target in TARGETS:
        value = figures.get(key)
        met = None if value is None else {
            ">=": value >= target, "<=": value <= target, "==": value == target}[comparison]
        checks.append({"key": key, "value": value, "target": f"{comparison} {target}",
                       "met": met})
    return checks


# --------------------------------------------------------------------------- tables


def _f(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 10 and unit in ("", "×") else f"{value:,.1f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text}{unit}" if unit and unit != "×" else text


def _pcts(stats: dict[str, Any] | None, keys: tuple[str, ...] = ("p50", "p95", "p99")) -> str:
    if not stats or not stats.get("n"):
        return "–"
    return " / ".join(_f(stats[k]) for k in keys)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _load_line(load: dict[str, Any]) -> str:
    parts = [f"phase {phase[-1].upper()}: {_f(d['busy_cores'])} cores busy on average, "
             f"{_f(d['other_cores'])} of them by processes outside the benchmark"
             for phase, d in sorted(load.items()) if d.get("busy_cores") is not None]
    return (" Machine load during the run: " + "; ".join(parts) + ".") if parts else ""


def markdown(results: dict[str, Any], live_hour: bool = True) -> str:
    """The tables of a run (``live_hour=False``: without section 6, which
    :func:`live_hour_doc` writes in a block of its own)."""
    m = results["machine"]
    p = m["packages"]
    out = [
        f"Measured {results['finished_at'][:16].replace('T', ' ')} UTC, `make bench` "
        f"({results['mode']}), {results['duration_s']:.0f} s, commit {m['commit']}.",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}; "
        f"Python {m['python']}, Rasa {p['rasa']}, rasa-sdk {p['rasa-sdk']}, "
        f"TensorFlow {p['tensorflow']}, Sanic {p['sanic']}, SQLAlchemy {p['SQLAlchemy']}; "
        f"{m['postgresql']}; {m['redis']}. Load average (1 min) at start: "
        f"{m['load_average_1m_at_start']}." + _load_line(results.get("machine_load") or {}),
        "",
        "### Targets",
        "",
    ]
    rows = []
    for check in results["targets"]:
        mark = {True: "met", False: "**missed**", None: "not measured"}[check["met"]]
        rows.append([f"`{check['key']}`", _f(check["value"]), check["target"], mark])
    out += _table(["figure", "measured", "target", ""], rows)

    conv = results.get("conversations")
    if conv:
        out += ["", f"### 1. Conversations ({conv['script_turns']}-turn triage, X webhook "
                "mode vs REST, same server, rounds interleaved)", ""]
        rows = []
        for row in conv["sizes"]:
            x, rest = row["x"], row["rest"]
            rows.append([
                str(row["people"]), _f(x["messages_per_s"]), _f(rest["messages_per_s"]),
                _f(row["throughput_ratio"]), _pcts(x["latency_ms"]), _pcts(rest["latency_ms"]),
                " / ".join(_f(row[k]) for k in ("p50_ratio", "p95_ratio", "p99_ratio")),
                _f(row["p50_overhead_ms"]), _f(x["first_message_ms"]["p50"]),
                f"{x['failed']} / {rest['failed']}"])
        out += _table(["people", "X msg/s", "REST msg/s", "X / REST", "X p50 / p95 / p99 ms",
                       "REST p50 / p95 / p99 ms", "X / REST p50 / p95 / p99",
                       "X − REST p50 ms", "X first DM p50 ms", "failed X / REST"], rows)
        errors = {f"{row['people']} people, {channel}": row[channel]["errors"]
                  for row in conv["sizes"] for channel in ("x", "rest")
                  if row[channel].get("errors")}
        if errors:
            out.append("\nFailed turns: " + "; ".join(
                f"{where}: " + ", ".join(f"{n} × {why}" for why, n in found.items())
                for where, found in errors.items()) + ".")

    ack = results.get("ack")
    if ack:
        out += ["", f"### 2. Webhook acknowledgement under saturation ({ack['rest_load_people']}"
                f" REST clients looping, new people writing on X at {ack['rate_per_s']}/s for "
                f"{ack['window_s']} s, one door at a time)", ""]
        rows = []
        for measured in (ack, results.get("ack_postgresql")):
            label = (measured or {}).get("database", "")
            for door, d in ((measured or {}).get("doors") or {}).items():
                headline_door = door == ack["headline_door"] and measured is ack
                failed = ", ".join(f"{n} × {why}" for why, n in d.get("failures", {}).items())
                rows.append([f"{door}, {label}" + (" (headline)" if headline_door else ""),
                             _pcts(d["ack_ms"], ("p50", "p99", "max")),
                             _f(d["rasa_cpu_percent"], " %"), str(d["deliveries"]),
                             failed or "0"])
        for size, stats in (conv or {}).get("acks_ms", {}).items():
            who = "1 person" if str(size) == "1" else f"{size} people"
            rows.append([f"thread, {ack.get('database', '')}, during the X rounds of {who}",
                         _pcts(stats, ("p50", "p99", "max")), "", str(stats["n"]), ""])
        out += _table(["door", "ack p50 / p99 / max ms (answered)", "Rasa CPU", "deliveries",
                       "not answered 200"], rows)

    desk = results.get("desk")
    if desk:
        out += ["", "### 3. Desk", ""]
        reply = desk.get("reply")
        if reply:
            out += _table(["lawyer's reply", "p50 / p95 / p99 ms", "replies", "failed"], [
                ["request → DM at the emulator", _pcts(reply["to_dm_ms"]),
                 str(reply["replies"]), str(reply["failed"])],
                ["the API request alone", _pcts(reply["request_ms"]), "", ""]])
            out.append("")
        rows = []
        for backend, queue in (desk.get("queue") or {}).items():
            for dataset, label in (("realistic", f"{queue['open']:,} open"),
                                   ("all_open", "all open")):
                measured = queue[dataset]
                page = measured["page"]
                rows.append([
                    backend, f"{queue['cases']:,} cases, {label}",
                    _pcts(measured["api"]["ms"], ("p50", "p99")),
                    f"{measured['api']['bytes']:,}",
                    _pcts(page["ms"], ("p50", "p99")) if page
                    else f"page not served (HTTP {measured['page_status']})",
                    f"{page['bytes']:,}" if page else "–"])
        out += _table(["database", "cases", "API p50 / p99 ms", "API bytes",
                       "page p50 / p99 ms", "page bytes"], rows)

    scale = results.get("scale")
    if scale:
        out += ["", f"### 4. Scaling out ({scale['people']} people on X, PostgreSQL, Redis "
                "lock store, signed webhooks round-robin over the processes' ingress ports)", ""]
        rows = []
        for key in ("one_process", "two_processes"):
            run = scale.get(key)
            if run:
                order = run["order"]
                rows.append([str(run["processes"]), _f(run["messages_per_s"]),
                             _pcts(run["latency_ms"]), _pcts(run["ack_ms"], ("p50", "p99")),
                             str(order["out_of_order"]), str(order["duplicates"]),
                             str(order["missing"])])
        out += _table(["Rasa processes", "msg/s", "p50 / p95 / p99 ms", "ack p50 / p99 ms",
                       "out of order", "duplicates", "missing"], rows)
        out.append(f"\nSpeedup, two processes over one: {_f(scale['speedup'], '×')}.")

    res = results.get("resources") or {}
    train = res.get("train") or {}
    out += ["", "### 5. Resources", ""]
    out += _table(["figure", "value"], [
        ["Rasa server peak RSS", _f(res.get("rasa_rss_mb"), " MB")],
        ["second Rasa server peak RSS (section 4)", _f(res.get("rasa2_rss_mb"), " MB")],
        ["action server peak RSS", _f(res.get("actions_rss_mb"), " MB")],
        ["`rasa train` wall time", _f(res.get("train_s"), " s") + (
            f" (recorded by `make train` at {train.get('recorded_at')}, load "
            f"{train.get('load_average_1m')})" if train else
            " (not recorded: run `make train`, which records it)")],
    ])
    if live_hour:
        out += live_hour_markdown(results.get("live_hour"))
    return "\n".join(out) + "\n"


def _people(indexes: list[int], total: int) -> str:
    if not indexes:
        return f"0 of {total}"
    shown = ", ".join(f"#{i}" for i in indexes[:8]) + (" …" if len(indexes) > 8 else "")
    return f"{len(indexes)} of {total} ({shown})"


def live_hour_doc(live: dict[str, Any], how: str) -> str:
    """Section 6 for its block of ``docs/benchmarks.md``: when, how, on what load."""
    load = live.get("machine_load") or {}
    busy = (f" Machine load during the hour: {_f(load['busy_cores'])} cores busy on average, "
            f"{_f(load['other_cores'])} of them by processes outside the benchmark."
            if load.get("busy_cores") is not None else "")
    head = (f"Measured {str(live.get('finished_at', '?'))[:16].replace('T', ' ')} UTC, {how}, "
            f"commit {live.get('commit', '?')}. Load average (1 min) at the start: "
            f"{live.get('load_average_1m_at_start', '–')}, at the end: "
            f"{live.get('load_average_1m_at_end', '–')}.{busy}")
    lines = live_hour_markdown(live)  # "", the heading, "", the tables
    return "\n".join([lines[1], "", head] + lines[2:]) + "\n"


def _overflow_note(plan: dict[str, Any]) -> str | None:
    if plan.get("follow_share") is None:
        return None
    return (f"The web-chat overflow is on: the link when the next answer would wait more "
            f"than {_f(plan.get('continue_after_minutes'))} live minutes; "
            f"{_f(100 * plan['follow_share'])} % of the people who get it follow it "
            "(drawn with the seed), the others stay on X")


def live_hour_markdown(live: dict[str, Any] | None) -> list[str]:
    """Section 6: the live hour's figures and the reading of issue #15's targets."""
    if not live:
        return []
    plan = live.get("plan") or {}
    read = live_reading.reading(live)
    people = live["people"]
    p0 = live.get("p0_people", 0)
    hour = _f(plan.get("hour_minutes"))
    out = ["", f"### 6. A live hour on X ({people} people writing in the first "
           f"{_f(plan.get('arrivals_minutes'))} minutes, each playing a scenario of the suite, "
           f"{p0} of them P0; X's 2026 limits, {live.get('window_limit')} DMs per "
           f"{_f(live.get('window_s', 900) / 60)} minutes; a {hour}-minute hour at time scale "
           f"{_f(plan.get('time_scale'))}; live seconds)", ""]
    ended = live.get("ended") or {}
    rows = [
        ["people who wrote / got a first answer", f"{people} / {live['people_answered']}"],
        ["handed over within the hour, through X (the desk's view)",
         str(live["handed_over_x"])],
        ["handed over through the web-chat overflow",
         f"{live['handed_over_web']} ({live.get('overflow_people_with_link', 0)} people got "
         f"the link, {live.get('overflow_continued_on_web', 0)} continued on the web chat, "
         f"{live.get('overflow_links_refused', 0)} links refused)"],
        ["the assistant's DMs per completed triage on X, median (with the web chat's)",
         f"{_f(live['dms_per_triage_median'])} "
         f"({_f(live.get('dms_per_triage_median_with_web'))})"],
        ["first reply p50 / p99 s", f"{_f(live['first_reply_p50_s'])} / "
                                    f"{_f(live['first_reply_p99_s'])}"],
        ["first reply of a P0 person, max s", _f(live["p0_first_reply_max_s"])],
        ["first answer: the turn (arrival → answer ready) p50 / p99 s",
         f"{_f(live.get('first_answer_turn_p50_s'))} / "
         f"{_f(live.get('first_answer_turn_p99_s'))}"],
        ["first answer: the wait for the DM budget (ready → DM) p50 / p99 s",
         f"{_f(live.get('first_answer_budget_wait_p50_s'))} / "
         f"{_f(live.get('first_answer_budget_wait_p99_s'))}"],
        ["lawyer's reply wait p50 s (case seen → DM or web chat)",
         f"{_f(live['lawyer_reply_wait_p50_s'])} ({live['lawyer_replies_delivered']} "
         f"replies delivered, {live.get('lawyer_replies_on_web', 0)} on the web chat: p50 "
         f"{_f(live.get('lawyer_reply_wait_web_p50_s'))})"],
        ["429s received / requests into a spent window",
         f"{live['responses_429']} / {live['sends_into_spent_window']}"],
        ["DMs sent / DM-send windows opened", f"{live['dms_sent']} / {read['windows']}"],
        ["cost of the hour (X pay-per-use)", f"${_f(live['cost_usd'])}"],
        ["cost of one triage on X, median (DMs sent and received)",
         f"${_f(live.get('cost_per_triage_usd_median'))}"],
        ["conversations: handed over / erased / 15 messages / still going at the end",
         " / ".join(str(ended.get(k, 0)) for k in ("handover", "erased", "turn_limit",
                                                   "still_going"))],
    ]
    out += _table(["figure", "value"], rows)
    bound = read["first_reply_bound_windows"]
    checks = [
        ("0 requests into a spent window", str(live["sends_into_spent_window"]),
         live["sends_into_spent_window"] == 0),
        ("every P0 person answered in the first window with budget",
         "late: " + _people(read["p0_late"], p0) + "; counted from the moment the answer "
         "was ready: " + _people(read["p0_late_once_ready"], p0), not read["p0_late"]),
        (f"every person a first answer within ceil(N/15) = {bound} window(s) of arrival",
         "late: " + _people(read["first_reply_late"], people), not read["first_reply_late"]),
        ("first answers in arrival order apart from priority (per window)",
         f"{read['arrival_order_inversions']} inversions; in the order the answers were "
         f"ready: {read['order_inversions_once_ready']}",
         read["arrival_order_inversions"] == 0),
        ("median DMs per completed triage ≤ 4", _f(live["dms_per_triage_median"]),
         live["dms_per_triage_median"] is not None and live["dms_per_triage_median"] <= 4),
    ]
    out += [""] + _table(["issue #15 target", "reading", ""], [
        [name, value, "met" if met else "**missed**"] for name, value, met in checks])
    notes = [_overflow_note(plan)]
    if live.get("driver_failures") or live.get("server_tracebacks") or live.get("lawyer_errors"):
        notes.append(f"driver failures {len(live.get('driver_failures') or [])}, server "
                     f"tracebacks {live.get('server_tracebacks')}, lawyer's API errors "
                     f"{live.get('lawyer_errors')}")
    out.append("\n" + "; ".join(n for n in notes if n) + ".")
    return out


# --------------------------------------------------------------------------- files


def write_json(results: dict[str, Any], name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path


def write_doc(table: str, path: Path = DOC, begin: str = BEGIN, end: str = END) -> None:
    """Replace what lies between the markers of ``docs/benchmarks.md`` (the reading around
    them is written by hand)."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{begin}\n{end}\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    path.write_text(pattern.sub(lambda _: f"{begin}\n{table}{end}", text, count=1))


def merge_live_hour(live: dict[str, Any], name: str = "latest.json") -> Path:
    """Put a live hour played alone into ``bench/results/<name>`` under ``live_hour`` (the
    other sections, if any, are kept; the headline and the targets are read again)."""
    path = RESULTS / name
    results = json.loads(path.read_text()) if path.exists() else {}
    results["live_hour"] = live
    results["headline"] = headline(results)
    results["targets"] = targets(results["headline"])
    return write_json(results, name)
