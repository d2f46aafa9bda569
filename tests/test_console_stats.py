"""The statistics page, its charts and its CSV: counts below BOT_STATS_MIN_COUNT as "<N"."""

import csv
import datetime as dt
import io
import re

import pytest

from bot.settings import CHECKOUT
from bot.store import keys
from tests.console_helpers import staff_client

TODAY = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")


@pytest.fixture
def counted(redis):
    """Counters as the webhook writes them: 3 Georgian conversations, 7 Persian ones."""
    name = keys.turn_stats_key(TODAY)
    redis.hset(name, mapping={
        "c|ka|sms": 3, "c|fa|whatsapp": 7,
        "m|eligibility|q_eu|fa|whatsapp": 7, "m|eligibility|q_permit|fa|whatsapp": 2,
    })  # fmt: skip
    redis.expire(name, 3600)


def test_page_table_shows_small_counts_as_less_than_five(app, redis, counted):
    client = staff_client(app, redis, "ana", "counsellor")
    page = client.get("/console/stats").get_data(as_text=True)
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    assert sorted(cells) == sorted(["&lt;5", "7", "7", "&lt;5"])
    assert not re.search(r'<td class="num">[1-4]</td>', page)
    assert 'id="chart-languages"' in page and 'id="chart-funnel"' in page


def test_csv_has_a_count_column_and_the_same_suppression(app, redis, counted):
    client = staff_client(app, redis, "ana", "counsellor")
    response = client.get("/console/stats.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert "count" in rows[0]
    assert sorted(r["count"] for r in rows) == ["7", "7", "<5", "<5"]
    assert {r["language"] for r in rows} == {"ka", "fa"}


def test_the_threshold_is_a_setting(make_app, redis, counted):
    app = make_app(BOT_STATS_MIN_COUNT=8)
    client = staff_client(app, redis, "ana", "counsellor")
    counts = [
        r.split(",")[-1] for r in client.get("/console/stats.csv").get_data(as_text=True).split()
    ]
    assert counts[0] == "count" and set(counts[1:]) == {"<8"}


def test_charts_are_svg_images_without_script_and_without_small_counts(make_app, redis, counted):
    app = make_app(BOT_FLOWS_DIR=str(CHECKOUT / "flows"))
    client = staff_client(app, redis, "ana", "counsellor")
    chart = client.get("/console/stats/languages.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    svg = chart.get_data(as_text=True)
    assert svg.lstrip().startswith("<svg") and "<script" not in svg
    assert "'unsafe-inline'" not in chart.headers["Content-Security-Policy"].split("style-src")[0]
    assert ">fa<" in svg and ">7<" in svg  # the Persian series is drawn
    values = re.findall(r'<desc class="value">([^<]*)</desc>', svg)
    assert "3" not in values  # the 3 Georgian conversations are not drawn
    funnel = client.get("/console/stats/funnel.svg").get_data(as_text=True)
    assert "q_eu" in funnel and "q_permit" in funnel
    values = re.findall(r'<desc class="value">([^<]*)</desc>', funnel)
    assert "7" in values and "2" not in values
    assert client.get("/console/stats/nothing.svg").status_code == 404


def test_dashboard_shows_todays_conversations(app, redis, counted):
    client = staff_client(app, redis, "ana", "counsellor")
    page = client.get("/console/").get_data(as_text=True)
    assert '<span class="big" id="conversations-today">10</span>' in page
