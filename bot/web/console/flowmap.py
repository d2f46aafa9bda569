"""A flow as an SVG graph, laid out here: columns by distance from the start node.

No graphviz: the console must not need a system binary. Each node is a box with its id and
type, its exits are lines to the nodes they lead to (an exit to another flow is a short
label), and a node with a validator warning is drawn with a thick orange border and a
number matching the list beside the graph. Only presentation attributes are used, no
<style> and no script, so the page's Content-Security-Policy holds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

# B406 is about parsing XML; escape() only writes our own SVG.
from xml.sax.saxutils import escape  # nosec B406

from bot.flow.model import Flow
from bot.flow.problems import Problem

BOX_W, BOX_H = 170, 44
GAP_X, GAP_Y = 70, 22
MARGIN = 12


@dataclass(frozen=True)
class Placed:
    """A node's box on the map."""

    id: str
    type: str
    x: int
    y: int
    warnings: tuple[int, ...]  # numbers of the warnings about it


def node_of(flow: Flow, problem: Problem) -> str | None:
    """The node a problem's line falls in (the last node starting at or before it)."""
    found = None
    for node in flow.nodes.values():
        if node.line <= problem.line:
            found = node.id
    return found


def layout(flow: Flow, warnings: dict[str, tuple[int, ...]]) -> list[Placed]:
    """Boxes in columns by breadth-first distance from the start; unreachable ones last."""
    depth = {flow.start: 0}
    queue = deque([flow.start])
    while queue:
        current = queue.popleft()
        for target in flow.nodes[current].targets():
            if target.flow == flow.id and target.node in flow.nodes and target.node not in depth:
                depth[target.node] = depth[current] + 1
                queue.append(target.node)
    last = max(depth.values(), default=0) + 1
    rows: dict[int, int] = {}
    placed = []
    for node in flow.nodes.values():
        column = depth.get(node.id, last)
        row = rows.get(column, 0)
        rows[column] = row + 1
        x = MARGIN + column * (BOX_W + GAP_X)
        y = MARGIN + row * (BOX_H + GAP_Y)
        placed.append(Placed(node.id, node.type, x, y, warnings.get(node.id, ())))
    return placed


def svg(flow: Flow, warnings: dict[str, tuple[int, ...]] | None = None) -> str:
    """The flow's map as an SVG element, with a <title> for screen readers."""
    boxes = {p.id: p for p in layout(flow, warnings or {})}
    width = max((p.x for p in boxes.values()), default=0) + BOX_W + MARGIN + 90
    height = max((p.y for p in boxes.values()), default=0) + BOX_H + MARGIN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowmap" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="map-{escape(flow.id)}">',
        f'<title id="map-{escape(flow.id)}">{escape(flow.title or flow.id)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
        "</defs>",
    ]
    for node in flow.nodes.values():
        source = boxes[node.id]
        sx, sy = source.x + BOX_W, source.y + BOX_H // 2
        others = 0
        for target in node.targets():
            if target.flow == flow.id and target.node in boxes:
                goal = boxes[target.node]
                tx, ty = goal.x, goal.y + BOX_H // 2
                if goal.x <= source.x:  # back edge: loop under the boxes
                    tx, ty = goal.x + BOX_W // 2, goal.y + BOX_H
                out.append(
                    f'<line x1="{sx}" y1="{sy}" x2="{tx}" y2="{ty}" stroke="#555" '
                    'stroke-width="1.2" marker-end="url(#arrow)"/>'
                )
            elif target.flow:
                label = escape(f"→ {target.flow}" + (f".{target.node}" if target.node else ""))
                out.append(
                    f'<text x="{sx + 6}" y="{sy + 14 * others - 4}" font-size="11" '
                    f'fill="#1a4d8f">{label}</text>'
                )
                others += 1
    for box in boxes.values():
        warned = bool(box.warnings)
        stroke = ' stroke="#c05800" stroke-width="3"' if warned else ' stroke="#333"'
        fill = "#fff4e5" if warned else ("#e8f0fb" if box.id == flow.start else "#ffffff")
        out.append(
            f'<g class="node" id="node-{escape(flow.id)}-{escape(box.id)}">'
            f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{fill}"{stroke}/>'
            f'<text x="{box.x + 8}" y="{box.y + 18}" font-size="13" font-weight="bold">'
            f"{escape(box.id[:22])}</text>"
            f'<text x="{box.x + 8}" y="{box.y + 35}" font-size="11" fill="#444">'
            f"{escape(box.type)}"
            + (f" ⚠ {', '.join(map(str, box.warnings))}" if warned else "")
            + "</text></g>"
        )
    out.append("</svg>")
    return "".join(out)
