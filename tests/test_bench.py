"""Smoke tests of the benchmark's parts (bench/): they run, on tiny sizes; nothing is timed.

Speed targets belong to `make bench`, never to unit tests: these only check that the floor
answers like a Twilio webhook, that the conversations are valid signed requests the service
understands, and that the memory, loading, round-trip and load-generator helpers work.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from bench import conversations as conv  # importable through pytest's pythonpath
from bench import floor, loadgen, loading, memory, report, roundtrips

ROOT = Path(__file__).resolve().parent.parent

TOKEN = "bench-test-token"
PUBLIC = "https://bench.invalid"


@pytest.fixture
def floor_app(redis, redis_url):
    """The floor app on the test Redis."""
    return floor.create_app(
        {"REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC}
    )


def _post(client, request: conv.SignedRequest, signature: str | None = None):
    return client.post(
        conv.WEBHOOK_PATH,
        data=request.body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": request.signature if signature is None else signature,
        },
    )


def test_floor_answers_a_signed_request_with_twiml_and_one_get_and_set(floor_app, redis):
    (first,) = conv.signed_conversations(conv.make_conversations(1), TOKEN, PUBLIC)
    response = _post(floor_app.test_client(), first[0])
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "<Response><Message>" in response.get_data(as_text=True)
    (key,) = redis.keys("*")
    assert key.decode().startswith(floor.KEY_PREFIX)
    assert conv.make_conversations(1)[0].sender.lstrip("+") not in key.decode()
    assert 0 < redis.ttl(key) <= floor.TTL


def test_floor_refuses_a_bad_signature(floor_app, redis):
    (first,) = conv.signed_conversations(conv.make_conversations(1), TOKEN, PUBLIC)
    assert _post(floor_app.test_client(), first[0], signature="forged").status_code == 403
    assert redis.dbsize() == 0


def test_conversations_have_distinct_senders_languages_and_both_channels():
    made = conv.make_conversations(300, seed=3)
    assert len({(c.channel, c.sender) for c in made}) == 300
    assert len({c.sender for c in made}) == 300
    assert {c.lang for c in made} == set(conv.SCRIPTS)
    assert {c.channel for c in made} == {"sms", "whatsapp"}
    later = conv.make_conversations(300, seed=3, first_index=300)
    assert not {c.sender for c in made} & {c.sender for c in later}


def test_requests_are_signed_as_twilio_signs_them(tmp_path):
    made = conv.make_conversations(20, seed=5)
    signed = conv.signed_conversations(made, TOKEN, PUBLIC, salt="t")
    validator = RequestValidator(TOKEN)
    sids = set()
    for conversation, requests in zip(made, signed, strict=True):
        assert len(requests) == len(conversation.script)
        for position, request in enumerate(requests):
            fields = dict(parse_qsl(request.body))
            assert validator.validate(PUBLIC + conv.WEBHOOK_PATH, fields, request.signature)
            assert fields["Body"] == conversation.script[position]
            assert fields["From"].endswith(conversation.sender)
            sids.add(fields["MessageSid"])
    assert len(sids) == sum(len(r) for r in signed)
    path = tmp_path / "requests.json"
    assert conv.write_requests(path, signed) == len(sids)
    assert conv.read_requests(path) == signed


@pytest.mark.parametrize("lang", sorted(conv.SCRIPTS))
def test_every_script_is_answered_in_its_language(lang):
    from bot.core.engine import Inbound
    from bot.core.runtime import Runtime
    from bot.store.pseudonym import normalize_number
    from bot.web.webhook import lang_hint

    engine = Runtime.load().engine
    home = [p[0] + "1" * p[1] for p in conv.COUNTRY_PREFIXES[lang]]
    belgian = conv.BELGIAN_PREFIX[0] + "1" * conv.BELGIAN_PREFIX[1]
    for script in conv.SCRIPTS[lang]:
        for number in [*home, belgian]:
            hint = lang_hint(script[0], normalize_number(number), engine.settings.languages)
            turn = engine.step(None, Inbound(script[0], lang_hint=hint), 1_700_000_000)
            if number != belgian:  # from a Belgian SIM, "سلام" could be Arabic or Persian
                assert turn.state.lang == lang, (script[0], number)
            state = turn.state
            for i, text in enumerate(script[1:], 1):
                state = engine.step(state, Inbound(text), 1_700_000_000 + 40 * i).state


def test_memory_measure_runs_on_a_few_conversations_and_cleans_up(redis, redis_url):
    result = memory.run(redis_url, 12)
    assert result["conversations"] == 12
    # The used_memory delta of 12 conversations (~6 KB) is within what other clients of a
    # shared test Redis move it by; MEMORY USAGE of each key is exact.
    assert "idle_bytes_per_conversation" in result
    assert 100 < result["keys"]["state_key"]["memory_usage_mean_bytes"] < 1000
    assert result["keys"]["state_key"]["keys"] == 12
    assert not result["keys"]["state_key"]["short_lived"]
    assert result["keys"]["replies_key"]["short_lived"]
    assert not list(redis.scan_iter(match="bot:s:*"))
    assert not list(redis.scan_iter(match="bot:r:*"))


def test_key_kind_names_the_keys_function():
    from bot.store import keys

    assert memory.key_kind(keys.state_key("abc")) == "state_key"
    assert memory.key_kind(keys.replies_key("abc")) == "replies_key"


def test_generated_flows_load_with_catalogs_in_every_language(tmp_path):
    from bot.core.runtime import Runtime

    made = loading.generate(tmp_path, nodes=30)
    runtime = Runtime.load(made["flows_dir"], made["locales_dir"])
    flows = runtime.engine.flows
    assert sum(len(f.nodes) for f in flows.flows.values()) == 30
    assert made["languages"] == len(flows.settings.languages) >= 12
    first = flows.flows["g001"].nodes["n1"].text.msgid
    assert runtime.engine.tr.gettext("ka", first) == f"[ka] {first}"
    cold = loading.cold_start(made["flows_dir"], made["locales_dir"], runs=1)
    assert cold["nodes"] == 30 and cold["total_s"] > 0


def test_command_counter_tells_client_commands_from_lua(redis, redis_url):
    counter = roundtrips.CommandCounter(redis_url)
    counter.start()
    redis.eval("redis.call('SET', KEYS[1], '1'); return redis.call('GET', KEYS[1])", 1, "k")
    redis.get("k")
    roundtrips.wait_quiet(0.05)
    counter.stop()
    counted = counter.per_message(1)
    assert counted["client_commands"]["EVAL"] == 1
    assert counted["client_commands"]["GET"] == 1
    assert counted["lua_commands"] == {"SET": 1, "GET": 1}


def test_percentiles_and_interleaving():
    assert loadgen.percentile([], 99) == 0.0
    values = list(range(1, 101))
    assert loadgen.percentile(values, 50) == 50
    assert loadgen.percentile(values, 99) == 99
    assert loadgen.percentile(values, 100) == 100
    order = loadgen.interleave([2, 1, 2], active=2)
    assert order == [(0, 0), (1, 0), (0, 1), (2, 0), (2, 1)]


def test_the_load_generator_refuses_anything_but_loopback():
    with pytest.raises(SystemExit):
        loadgen.check_loopback("http://192.0.2.1:8000/webhooks/twilio")
    loadgen.check_loopback("http://127.0.0.1:8000/webhooks/twilio")


@pytest.fixture
def floor_server(floor_app):
    """The floor app on a real HTTP server on 127.0.0.1, for the load generator."""
    server = make_server("127.0.0.1", 0, floor_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{conv.WEBHOOK_PATH}"
    server.shutdown()
    thread.join(5)


def test_load_generator_closed_and_open_loops_against_the_floor(floor_server):
    signed = conv.signed_conversations(conv.make_conversations(6, seed=9), TOKEN, PUBLIC)
    closed = asyncio.run(
        loadgen.closed_loop(floor_server, signed, concurrency=2, max_messages=10, max_seconds=20)
    )
    assert closed["sent"] == closed["ok"] == 10 and not closed["errors"]
    again = conv.signed_conversations(conv.make_conversations(6, seed=9), TOKEN, PUBLIC, "b")
    opened = asyncio.run(
        loadgen.open_loop(floor_server, again, rate=50, active=3, max_messages=8, max_seconds=20)
    )
    assert opened["sent"] == opened["ok"] == 8 and not opened["errors"]
    assert opened["latency_ms"]["p50"] > 0


def test_paired_slices_alternate_and_keep_each_conversation_in_order():
    """The closed loop of `python -m bench`: two apps in alternating slices, each getting
    every conversation's messages in order, continued from one slice to the next."""
    from urllib.parse import parse_qs

    received: dict[str, list[str]] = {"a": [], "b": []}
    arrivals: list[str] = []

    def recorder(name):
        def app(environ, start_response):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            received[name].append(parse_qs(body.decode())["MessageSid"][0])
            arrivals.append(name)
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [b"<Response><Message>ok</Message></Response>"]

        return app

    servers, urls = [], {}
    for name in received:
        server = make_server("127.0.0.1", 0, recorder(name), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_port}{conv.WEBHOOK_PATH}"
    try:
        conversations = conv.make_conversations(8, seed=4)
        signed = conv.signed_conversations(conversations, TOKEN, PUBLIC)
        paired = asyncio.run(
            loadgen.paired_loop(
                urls, signed, concurrency=3, slices=4, slice_messages=7, max_seconds=20
            )
        )
    finally:
        for server in servers:
            server.shutdown()
    assert paired["slices"] == 4 and len(paired["ratios"]) == 4
    # Slices of 7, the order swapped every pair: a b, b a, a b, b a.
    assert arrivals == [n for n in "abbaabba" for _ in range(7)]
    for pair, ratio in zip(paired["pairs"], paired["ratios"], strict=True):
        assert ratio == round(pair["b"] / pair["a"], 3)  # second app over the reference
    for name in received:
        assert paired["apps"][name]["ok"] == 28 and not paired["apps"][name]["errors"]
        assert len(received[name]) == 28
        for c, conversation in enumerate(conversations):
            sids = [conv.message_sid(conversation, i) for i in range(len(conversation.script))]
            got = [sid for sid in received[name] if sid in sids]
            assert got == sids[: len(got)], f"conversation {c} out of order for {name}"
        assert conv.message_sid(conversations[0], 0) in received[name]  # from the same list


def _fake_results() -> dict:
    lat = {"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 4.0, "mean": 1.5}
    phase = {"messages_per_s": 100.0, "latency_ms": lat, "errors": {}}
    app = {
        "closed": phase,
        "open": phase,
        "failed": 0,
        "worker_memory": {"rss_kb": 1024, "pss_kb": 512},
        "ready_s": 0.5,
    }
    monitor = {"commands_per_message": 2.0, "client_commands": {"GET": 1.0, "SET": 1.0}}
    trips = {
        "round_trips_per_message": 2.0,
        "most_common_round_trips": 2,
        "share_of_messages_by_round_trips": {"2": 1.0},
        "monitor": monitor,
    }
    kind = {
        "keys": 1,
        "share_of_conversations": 1.0,
        "memory_usage_mean_bytes": 100.0,
        "ttl_s_median": 60,
        "short_lived": True,
    }
    cold = {"nodes": 63, "languages": 12, "total_s": 0.4, "import_s": 0.1, "load_s": 0.3}
    return {
        "meta": {
            "mode": "quick",
            "date": "today",
            "commit": "abc",
            "dirty": False,
            "cpu": "cpu",
            "cpus": 2,
            "python": "3.11",
            "redis": "6.2",
            "gunicorn": "-w 1",
            "pinned": True,
            "settings": {"rate": 80.0, "concurrency": 8, "messages": 400},
        },
        "http": {
            "floor": app,
            "service": app,
            "ratio": 0.5,
            "round_ratios": [0.4, 0.5, 0.6],
            "ratio_quartiles": [0.45, 0.55],
        },
        "round_trips": {"floor": trips, "service": trips},
        "memory": {
            "conversations": 10,
            "idle_bytes_per_conversation": 400.0,
            "short_lived_bytes_per_conversation": 900.0,
            "keys": {"replies_key": kind},
        },
        "loading": {
            "shipped": {"cold": cold, "warm_load_s": 0.1},
            "generated": {"cold": cold, "warm_load_s": 0.2, "catalog_languages": 12},
        },
    }


def test_report_checks_the_targets_and_writes_json_and_markdown(tmp_path):
    results = _fake_results()
    results["targets"] = report.check_targets(results)
    met = {t["id"]: t["met"] for t in results["targets"]}
    assert met == {
        "throughput": False,
        "p99_at_rate": True,
        "round_trips": True,
        "idle_bytes": True,
        "cold_start": True,
    }
    json_path, md_path = report.write(results, tmp_path, "smoke")
    assert json_path.exists()
    table = md_path.read_text(encoding="utf-8")
    assert "| service/floor messages per second, one worker | >= 0.7 | 0.5 | **no** |" in table
    assert "3 pairs of slices of 400 messages" in table
    assert "**0.50** (middle half of the pairs: 0.45-0.55)" in table
    assert "2.00 (GET 1, SET 1)" in table


def test_round_trips_are_counted_as_socket_writes(redis):
    def post(_request):
        redis.get("a")
        pipe = redis.pipeline()
        pipe.set("a", 1)
        pipe.expire("a", 60)
        pipe.execute()

    counted = roundtrips.count_in_process(post, list(range(5)), warmup=1)
    assert counted["messages"] == 4
    assert counted["round_trips_per_message"] == 2
    assert counted["most_common_round_trips"] == 2
    assert counted["share_of_messages_by_round_trips"] == {"2": 1.0}
    assert counted["writes_by_first_command"] == {"GET": 1, "MULTI": 1}


def test_instruction_counter_calls_each_app_as_gunicorn_does(redis_url):
    """bench.instructions (run under valgrind by hand): its requests are signed and answered
    200 by both apps when called as WSGI apps, and its table gives the ratio."""
    from bench import instructions
    from bench.floor import create_app as floor_app
    from bot.web.app import create_app as service_app

    config = instructions._config(redis_url)
    requests = instructions.environs(1, 30)
    assert len(requests) == 30
    for make in (floor_app, service_app):
        instructions.call_all(make(config), requests)  # stops on anything but a 200
    table = list(instructions.rows({"floor": 600_000_000, "service": 1_000_000_000}, 600))
    assert "| service | 1.667 M |" in table and "| floor/service | 0.600 |" in table


def test_gunicorn_runs_with_the_procfiles_settings():
    """The ratio is meant for the service as deployed: the Procfile's worker class,
    connections and timeouts (it ran gthread for a while after the Procfile moved to gevent)."""
    from bench.servers import GUNICORN_ARGS

    web = next(
        line.split(":", 1)[1].split()
        for line in (Path(__file__).parents[1] / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    procfile = {web[i]: web[i + 1] for i, word in enumerate(web[:-1]) if word.startswith("--")}
    args = list(GUNICORN_ARGS)
    ours = {args[i]: args[i + 1] for i, word in enumerate(args[:-1]) if word.startswith("--")}
    for option in ("--worker-class", "--worker-connections", "--timeout", "--graceful-timeout"):
        assert ours[option] == procfile[option], option
    assert ours["--workers"] == "1"
