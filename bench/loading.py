"""Flow loading time: the shipped flows, and a generated set of 1,000 nodes in 12 languages.

Cold start is what a new web worker pays before it can answer: a fresh interpreter imports
bot.core.runtime (Flask, Babel, YAML, rapidfuzz...) and runs `Runtime.load` (parse and validate
every flow, read every catalog, build the engine's word tables). It is timed in a new
process each time (`cold`), split into imports and load; `warm` is `Runtime.load` again in
a process that already imported everything (what a reload costs).

The generated set (`generate`) is made in a temporary folder: the shipped `_config.yaml`
and `_staff.yaml`, a main menu and flows of 50 nodes each (menus, messages, free-text
questions and messages that show the answer), every text unique, and a catalog (.po and
.mo, written with Babel) for each of the 12 languages of `_config.yaml`, every text
translated (the translation is the English text with a language tag in front).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from bot.core.runtime import DEFAULT_FLOWS, DEFAULT_LOCALES, ROOT, Runtime
from bot.flow import read_flows
from bot.i18n.extract import texts_of_file
from bot.i18n.translator import catalog_path

NODES_PER_FLOW = 50
"""Nodes in each generated flow (the main menu is one more node)."""
COLD_RUNS = 3
"""Fresh processes per measurement; the median is reported."""
WORDS = (
    "return desk counsellor ticket travel document family support housing health work "
    "school business training country embassy appointment answer question choice help "
    "information decision confidential free phone message reply number language"
).split()
"""Words the generated texts are made of, so they are as long as real screens."""

_COLD = """
import json, sys, time
t0 = time.perf_counter()
from bot.core.runtime import Runtime
t1 = time.perf_counter()
runtime = Runtime.load(sys.argv[1], sys.argv[2])
t2 = time.perf_counter()
flows = runtime.engine.flows
print(json.dumps({
    "import_s": t1 - t0,
    "load_s": t2 - t1,
    "flows": len(flows.flows),
    "nodes": sum(len(f.nodes) for f in flows.flows.values()),
    "languages": len(flows.settings.languages),
}))
"""


def cold_start(flows_dir: Path, locales_dir: Path, runs: int = COLD_RUNS) -> dict:
    """Imports + Runtime.load in `runs` fresh interpreters; medians in seconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _COLD, str(flows_dir), str(locales_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        wall = time.perf_counter() - started
        if out.returncode != 0:
            raise RuntimeError(f"cold start failed:\n{out.stderr[-2000:]}")
        sample = json.loads(out.stdout.strip().splitlines()[-1])
        sample["process_s"] = wall
        samples.append(sample)
    first = samples[0]
    return {
        "runs": runs,
        "import_s": round(statistics.median(s["import_s"] for s in samples), 3),
        "load_s": round(statistics.median(s["load_s"] for s in samples), 3),
        "total_s": round(statistics.median(s["import_s"] + s["load_s"] for s in samples), 3),
        "process_s": round(statistics.median(s["process_s"] for s in samples), 3),
        "flows": first["flows"],
        "nodes": first["nodes"],
        "languages": first["languages"],
    }


def warm_load(flows_dir: Path, locales_dir: Path, runs: int = 3) -> float:
    """The fastest of `runs` Runtime.load calls in this (already warm) process, seconds."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        Runtime.load(flows_dir, locales_dir)
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def _sentence(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 13) % len(WORDS)] for i in range(words))


def _flow_yaml(flow: int, count: int) -> str:
    """One generated flow of `count` nodes: a chain of menus, messages and questions."""
    lines = [f"title: Generated topic {flow}", "nodes:"]
    last = count - 1
    for i in range(count):
        node = f"n{i}"
        nxt = f"n{min(i + 1, last)}"
        skip = f"n{min(i + 2, last)}"
        text = f"Topic {flow}, screen {i}: {_sentence(flow * 1000 + i, 14)}."
        if i == last:
            lines += [
                f"  - id: {node}",
                "    type: menu",
                f'    text: "End of topic {flow}. {_sentence(flow, 8)}?"',
                "    options:",
                '      - label: "Main menu"',
                "        goto: main",
            ]
        elif i % 4 == 0:
            lines += [
                f"  - id: {node}",
                "    type: menu",
                f'    text: "{text}"',
                "    options:",
                f'      - label: "Go on with {_sentence(flow + i, 3)}"',
                f'        synonyms: "next, continue, {WORDS[i % len(WORDS)]}"',
                f"        goto: {nxt}",
                f'      - label: "Skip to {_sentence(flow + i + 1, 3)}"',
                f"        goto: {skip}",
                '      - label: "Main menu"',
                "        goto: main",
            ]
        elif i % 4 == 2:
            lines += [
                f"  - id: {node}",
                "    type: question",
                f'    text: "{text} Please write your answer."',
                "    expect: text",
                f"    save_as: answer_{flow}_{i}",
                f"    next: {nxt}",
            ]
        elif i % 4 == 3 and i >= 3:
            lines += [
                f"  - id: {node}",
                "    type: message",
                f'    text: "{text} You wrote: {{answer_{flow}_{i - 1}}}."',
                f"    next: {nxt}",
            ]
        else:
            lines += [f"  - id: {node}", "    type: message", f'    text: "{text}"']
            lines += [f"    next: {nxt}"]
    return "\n".join(lines) + "\n"


def _main_yaml(flows: int) -> str:
    lines = ["title: Generated main menu", "nodes:", "  - id: menu", "    type: menu"]
    lines += ['    text: "Generated main menu. Reply with a number:"', "    options:"]
    for flow in range(1, flows + 1):
        lines += [f'      - label: "Topic {flow}"', f"        goto: g{flow:03d}"]
    return "\n".join(lines) + "\n"


def generate(target: Path, nodes: int = 1000) -> dict:
    """Write a flow set of `nodes` nodes and catalogs in every configured language."""
    flows_dir, locales_dir = target / "flows", target / "locales"
    flows_dir.mkdir(parents=True, exist_ok=True)
    config = (DEFAULT_FLOWS / "_config.yaml").read_text(encoding="utf-8")
    config = config.replace("help_flow: help", "help_flow: main")
    (flows_dir / "_config.yaml").write_text(config, encoding="utf-8")
    staff = DEFAULT_FLOWS / "_staff.yaml"
    if staff.exists():
        (flows_dir / "_staff.yaml").write_text(staff.read_text(encoding="utf-8"), "utf-8")
    remaining, flow = nodes - 1, 0
    while remaining > 0:
        flow += 1
        count = min(NODES_PER_FLOW, remaining)
        count = count if count >= 2 else 2
        (flows_dir / f"g{flow:03d}.yaml").write_text(_flow_yaml(flow, count), "utf-8")
        remaining -= count
    (flows_dir / "main.yaml").write_text(_main_yaml(flow), encoding="utf-8")
    msgids: dict[str, None] = {}
    for path in sorted(flows_dir.glob("*.yaml")):
        for text in texts_of_file(str(path), path.read_text(encoding="utf-8")):
            msgids.setdefault(text.msgid)
    flowset, problems = read_flows(flows_dir)
    if flowset is None:
        raise RuntimeError("generated flows do not load:\n" + "\n".join(map(str, problems)))
    languages = flowset.settings.languages
    for lang in languages:
        catalog = Catalog(locale=lang, project="bench", fuzzy=False)
        for msgid in msgids:
            catalog.add(msgid, f"[{lang}] {msgid}")
        po = catalog_path(locales_dir, lang, "po")
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fh:
            write_po(fh, catalog)
        with catalog_path(locales_dir, lang, "mo").open("wb") as fh:
            write_mo(fh, catalog)
    return {
        "flows_dir": flows_dir,
        "locales_dir": locales_dir,
        "messages": len(msgids),
        "languages": len(languages),
    }


def shipped(runs: int = COLD_RUNS) -> dict:
    """Cold and warm loading of the shipped flows and catalogs."""
    return {
        "cold": cold_start(DEFAULT_FLOWS, DEFAULT_LOCALES, runs),
        "warm_load_s": warm_load(DEFAULT_FLOWS, DEFAULT_LOCALES),
    }


def generated(work_dir: Path, nodes: int = 1000, runs: int = COLD_RUNS) -> dict:
    """Generate `nodes` nodes with catalogs under `work_dir`, then time their loading."""
    started = time.perf_counter()
    made = generate(work_dir, nodes)
    return {
        "generate_s": round(time.perf_counter() - started, 2),
        "messages": made["messages"],
        "catalog_languages": made["languages"],
        "cold": cold_start(made["flows_dir"], made["locales_dir"], runs),
        "warm_load_s": warm_load(made["flows_dir"], made["locales_dir"]),
    }
