"""The statistics charts as SVG made on the server with pygal: no script in the browser.

pygal's tooltips script is switched off (`js=[]`) and its configuration script removed;
its SVG keeps an inline <style>, so
the charts are served as images from their own URL (an image runs no script) with a
policy that allows only that inline style. Suppressed counts (below BOT_STATS_MIN_COUNT)
are left out of the bars, never drawn at their true height.
"""

from __future__ import annotations

import re

import pygal
from pygal.style import Style

from bot.store import stats as counts

STYLE = Style(
    background="white",
    plot_background="white",
    font_family="sans-serif",
    colors=("#1a4d8f", "#c05800", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037"),
)


_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def _render(chart) -> str:
    """The chart's SVG without the configuration script pygal always writes (we use none)."""
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _chart(cls, title: str):
    return cls(
        js=[],
        style=STYLE,
        title=title,
        width=760,
        height=360,
        show_legend=True,
        legend_at_bottom=True,
        print_values=False,
        disable_xml_declaration=True,
        no_data_text="—",
    )


def conversations_by_language(
    rows: list[counts.Row], days: list[str], minimum: int, title: str
) -> str:
    """Conversations started per day, one series per language (stacked bars)."""
    chart = _chart(pygal.StackedBar, title)
    chart.x_labels = [d[5:] for d in days]
    langs = sorted({r.lang for r in rows if r.kind == "conversations"})
    for lang in langs:
        per_day = {d: 0 for d in days}
        for r in rows:
            if r.kind == "conversations" and r.lang == lang and r.day in per_day:
                per_day[r.day] += r.count
        chart.add(lang, [counts.suppressed(per_day[d], minimum) for d in days])
    return _render(chart)


def funnel(steps: list[tuple[str, int]], minimum: int, title: str) -> str:
    """How many messages reached each eligibility question, in flow order."""
    chart = _chart(pygal.HorizontalBar, title)
    chart.show_legend = False
    chart.x_labels = [name for name, _count in steps]
    chart.add("reached", [counts.suppressed(c, minimum) for _name, c in steps])
    return _render(chart)
