"""The benchmark's results: the targets checked, a JSON file and a short Markdown table.

The JSON (`bench/results/latest.json`) keeps every number with the machine and settings it
was measured on; the Markdown (`latest.md`, linked from the README) is the table a person
reads. Both are written by `python -m bench`; the table is also printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGETS = (
    ("throughput", "service/floor messages per second, one worker", ">=", 0.70),
    ("p99_at_rate", "service p99 latency at the fixed rate, ms", "<", 20.0),
    ("round_trips", "Redis round trips per inbound message, common case", "<=", 3.0),
    ("idle_bytes", "Redis bytes per idle conversation", "<=", 500.0),
    ("cold_start", "cold start with the shipped flows and catalogs, s", "<", 1.0),
)
"""(id, what, comparison, bound): the issue's targets, for the benchmark, not for unit tests."""


def _met(value: float, op: str, bound: float) -> bool:
    return {">=": value >= bound, "<": value < bound, "<=": value <= bound}[op]


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met."""
    measured = {
        "throughput": results["http"]["ratio"],
        "p99_at_rate": results["http"]["service"]["open"]["latency_ms"]["p99"],
        "round_trips": results["round_trips"]["service"]["most_common_round_trips"],
        "idle_bytes": results["memory"]["idle_bytes_per_conversation"],
        "cold_start": results["loading"]["shipped"]["cold"]["total_s"],
    }
    return [
        {
            "id": tid,
            "what": what,
            "target": f"{op} {bound}",
            "measured": measured[tid],
            "met": _met(measured[tid], op, bound),
        }
        for tid, what, op, bound in TARGETS
    ]


def _lat(summary: dict[str, float]) -> str:
    return f"{summary['p50']:.1f} / {summary['p95']:.1f} / {summary['p99']:.1f}"


def _commands(monitor: dict[str, Any]) -> str:
    """`5.1: EVALSHA 2, HSET 0.9, ...` from a MONITOR count."""
    parts = ", ".join(f"{k} {v:g}" for k, v in list(monitor["client_commands"].items())[:6])
    return f"{monitor['commands_per_message']:.2f} ({parts})"


def _cpu(phase: dict[str, Any], who: str) -> str:
    cpu = phase.get("cpu") or {}
    if not cpu:
        return "-"
    return f"{cpu[who + '_cpu_share']:.0%}; {cpu[who + '_cpu_ms_per_message']:.2f}"


def _spread(counted: dict[str, Any]) -> str:
    """`2: 71%, 4: 29%` from an in-process count."""
    shares = counted.get("share_of_messages_by_round_trips", {})
    return ", ".join(f"{k}: {v:.0%}" for k, v in shares.items())


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def _each(http: dict[str, Any]) -> str:
    """Where the middle half of the pairs' ratios lie, so the spread is seen by the median."""
    quartiles = http.get("ratio_quartiles") or []
    if len(quartiles) != 2:
        return ""
    low, high = quartiles
    return f" (middle half of the pairs: {low:.2f}-{high:.2f})"


def markdown(results: dict[str, Any]) -> str:
    """The short table a person reads (and the README links to)."""
    meta, http = results["meta"], results["http"]
    floor, service = http["floor"], http["service"]
    rt, mem, load = results["round_trips"], results["memory"], results["loading"]
    fc, sc = floor["closed"], service["closed"]
    fo, so = floor["open"], service["open"]
    rate = meta["settings"]["rate"]
    dirty = " (with uncommitted changes)" if meta["dirty"] else ""
    p99_ratio = _ratio(so["latency_ms"]["p99"], fo["latency_ms"]["p99"])
    pairs = len(http.get("round_ratios") or [])
    floor_cpu = rt["floor"].get("cpu_ms_per_message", 0.0)
    service_cpu = rt["service"].get("cpu_ms_per_message", 0.0)
    lines = [
        f"# Benchmark results ({meta['mode']} run)",
        "",
        f"{meta['date']}, commit `{meta['commit']}`{dirty}; "
        f"{meta['cpu']} ({meta['cpus']} CPUs), Python {meta['python']}, Redis {meta['redis']}; "
        f"gunicorn `{meta['gunicorn']}`; "
        + (
            "server pinned to CPU 0, Redis and load generator to CPU 1."
            if meta["pinned"]
            else "processes not pinned."
        )
        + " How to read this: bench/README.md.",
        "",
        "| | floor | service | service/floor |",
        "|---|---:|---:|---:|",
        f"| messages/s, closed loop ({meta['settings']['concurrency']} users; {pairs} pairs of "
        f"slices of {meta['settings']['messages']} messages, floor and service alternating; "
        f"ratio: median of the pairs' ratios) | {fc['messages_per_s']:.0f} | "
        f"{sc['messages_per_s']:.0f} | **{http['ratio']:.2f}**{_each(http)} |",
        f"| latency p50 / p95 / p99 ms, closed loop | {_lat(fc['latency_ms'])} | "
        f"{_lat(sc['latency_ms'])} | |",
        f"| web worker CPU, closed loop: share of a CPU; ms per message | {_cpu(fc, 'worker')} | "
        f"{_cpu(sc, 'worker')} | |",
        f"| Redis CPU, closed loop: share of a CPU; ms per message | {_cpu(fc, 'redis')} | "
        f"{_cpu(sc, 'redis')} | |",
        f"| app CPU ms per message in-process (no gunicorn; steady on a busy machine) | "
        f"{floor_cpu:.2f} | {service_cpu:.2f} | {_ratio(floor_cpu, service_cpu)} (floor/service) |",
        f"| messages/s, open loop at {rate:g}/s | {fo['messages_per_s']:.1f} | "
        f"{so['messages_per_s']:.1f} | |",
        f"| latency p50 / p95 / p99 ms at {rate:g}/s | {_lat(fo['latency_ms'])} | "
        f"**{_lat(so['latency_ms'])}** | {p99_ratio} (p99) |",
        f"| failed requests (all phases) | {floor['failed']} | {service['failed']} | |",
        f"| Redis round trips per message, mean (socket writes, in-process) | "
        f"{rt['floor']['round_trips_per_message']:.2f} | "
        f"**{rt['service']['round_trips_per_message']:.2f}** | |",
        f"| share of messages by round trips | {_spread(rt['floor'])} | "
        f"{_spread(rt['service'])} | |",
        f"| Redis commands sent per message (MONITOR, under gunicorn) | "
        f"{_commands(rt['floor']['monitor'])} | {_commands(rt['service']['monitor'])} | |",
        f"| web worker memory RSS / PSS MB | {floor['worker_memory']['rss_kb'] / 1024:.1f} / "
        f"{floor['worker_memory']['pss_kb'] / 1024:.1f} | "
        f"{service['worker_memory']['rss_kb'] / 1024:.1f} / "
        f"{service['worker_memory']['pss_kb'] / 1024:.1f} | |",
        f"| gunicorn start to ready, s | {floor['ready_s']:.2f} | {service['ready_s']:.2f} | |",
        "",
        f"Redis memory, {mem['conversations']:,} conversations written by the service's store:",
        "",
        "| | bytes per conversation |",
        "|---|---:|",
        f"| idle conversation (used_memory delta) | **{mem['idle_bytes_per_conversation']:.0f}** |",
        f"| short-lived records, gone hours after the last message | "
        f"{mem['short_lived_bytes_per_conversation']:.0f} |",
    ]
    for name, kind in mem["keys"].items():
        life = "short-lived" if kind["short_lived"] else "idle"
        lines.append(
            f"| `{name}` MEMORY USAGE mean ({life}, TTL {kind['ttl_s_median']:,} s, "
            f"{kind['share_of_conversations']:.0%} of conversations) | "
            f"{kind['memory_usage_mean_bytes']:.0f} |"
        )
    sh, gen = load["shipped"], load["generated"]
    lines += [
        "",
        "Flow loading (fresh process: imports + `Runtime.load`, median; warm: load again):",
        "",
        "| | nodes | languages | cold total s (imports + load) | warm load s |",
        "|---|---:|---:|---:|---:|",
        f"| shipped flows | {sh['cold']['nodes']} | {sh['cold']['languages']} | "
        f"**{sh['cold']['total_s']:.2f}** ({sh['cold']['import_s']:.2f} + "
        f"{sh['cold']['load_s']:.2f}) | {sh['warm_load_s']:.2f} |",
        f"| generated | {gen['cold']['nodes']} | {gen['catalog_languages']} | "
        f"{gen['cold']['total_s']:.2f} ({gen['cold']['import_s']:.2f} + "
        f"{gen['cold']['load_s']:.2f}) | {gen['warm_load_s']:.2f} |",
        "",
        "Targets:",
        "",
        "| target | bound | measured | met |",
        "|---|---:|---:|:---:|",
    ]
    for t in results["targets"]:
        lines.append(
            f"| {t['what']} | {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], out_dir: Path, name: str) -> tuple[Path, Path]:
    """Write `<name>.json` and `<name>.md` under `out_dir`; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path
