"""Issue 17 items 1-3: slow clients, concurrent duplicates, a flood of new senders.

Real gunicorn with the Procfile's `web:` settings, a real redis-server, signed messages.
"""

from __future__ import annotations

import collections
import itertools
import socket
import threading
import time

from .harness import SHIPPED_FLOWS, Sender, concurrently, segments, wait_for

SLOW_CONNECTIONS = 64
MESSAGES = 12
RATE_TEXT = "You sent many messages"


def _slow_client(port: int, stop: threading.Event, opened: list) -> None:
    """Send a request head one header line per second, never finishing it."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        sock.sendall(b"POST /webhooks/twilio HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        opened.append(sock)
        for i in itertools.count():
            if stop.wait(1.0):
                break
            sock.sendall(b"X-Slow-%d: x\r\n" % i)
    except OSError:
        pass


def test_signed_messages_answered_while_64_slow_connections_held(harness, figures):
    redis = harness.redis()
    web = harness.web(redis.url)
    stop, opened = threading.Event(), []
    threads = [
        threading.Thread(target=_slow_client, args=(web.port, stop, opened), daemon=True)
        for _ in range(SLOW_CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(opened) >= SLOW_CONNECTIONS, 5)
    sender = Sender(web.port)
    replies = []
    try:
        for _ in range(MESSAGES):
            started = time.monotonic()
            replies.append(sender.sms("hi", Sender.new_number(), timeout=3))
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    finally:
        stop.set()
        for sock in opened:
            sock.close()
    fast = sum(1 for r in replies if r.ok and r.texts and r.seconds <= 1.0)
    figures(
        {
            "slow_connections": len(opened),
            "messages": MESSAGES,
            "answered_within_1s": fast,
            "answered_at_all": sum(1 for r in replies if r.ok),
            "latencies_s": [round(r.seconds, 2) for r in replies],
        }
    )
    assert fast >= MESSAGES - 1


def test_concurrent_duplicates_answered_once_and_not_counted(harness, figures):
    fake = harness.fake_twilio()
    redis = harness.redis()
    env = harness.twilio_env(fake, BOT_PARTS_DELAY="0", BOT_RATE_LIMIT="8", BOT_LOOP_STREAK="0")
    web = harness.web(redis.url, **env)
    harness.worker(redis.url, **env)
    sender = Sender(web.port)
    trials, inconsistent, twice = 12, 0, 0
    numbers = []
    for _ in range(trials):
        number = Sender.new_number()
        numbers.append(number)
        assert sender.sms("hi", number).ok
        form = sender.form("1", number)  # a long reply: TwiML part + REST parts
        replies = concurrently(lambda _, form=form: sender.post(dict(form)), range(5))
        answers = {tuple(r.texts) for r in replies if r.ok}
        if len(answers) != 1 or any(not r.ok for r in replies):
            inconsistent += 1
        numbers[-1] = (number, replies)
    time.sleep(3)  # the worker sends the REST parts
    for number, replies in numbers:
        rest = fake.accepted_to(number)
        twiml = [t for r in replies if r.ok for t in r.texts]
        # Each text the person gets: once in the (single) TwiML answer Twilio uses, or by REST.
        counts = collections.Counter(rest)
        if any(c > 1 for c in counts.values()) or set(rest) & set(twiml):
            twice += 1

    limited = Sender.new_number()
    assert sender.sms("hi", limited).ok
    refused = 0
    for i in range(6):  # 6 messages x 5 deliveries: 30 deliveries, 7 messages with the first
        form = sender.form("4" if i % 2 == 0 else f"word{i}", limited)
        replies = concurrently(lambda _, form=form: sender.post(dict(form)), range(5))
        refused += sum(1 for r in replies if RATE_TEXT in " ".join(r.texts))
    last = sender.sms("menu", limited)  # the 8th message: within BOT_RATE_LIMIT=8
    last_refused = not last.texts or RATE_TEXT in " ".join(last.texts)
    figures(
        {
            "trials": trials,
            "deliveries_per_trial": 5,
            "trials_with_different_twiml": inconsistent,
            "trials_with_a_text_received_twice": twice,
            "duplicate_deliveries_refused_by_rate_limit": refused,
            "eighth_distinct_message_refused": last_refused,
        }
    )
    assert inconsistent == 0 and twice == 0 and refused == 0 and not last_refused


def test_flood_of_new_senders_is_braked(harness, figures):
    budget, flood = 300, 1000
    redis = harness.redis()
    web = harness.web(redis.url, BOT_FLOWS_DIR=str(SHIPPED_FLOWS), BOT_DAILY_SEGMENTS=str(budget))
    sender = Sender(web.port)
    regular = Sender.new_number()
    assert sender.sms("hi", regular).ok
    done: list = []
    lock = threading.Lock()
    numbers = iter([Sender.new_number() for _ in range(flood)])
    started = time.monotonic()

    def run(_):
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            reply = sender.sms("hello", number, timeout=10)
            with lock:
                done.append(reply)

    concurrently(run, range(8))
    seconds = time.monotonic() - started
    spent, full_after_budget, worst = 0, 0, 0
    for reply in done:
        cost = sum(segments(t) for t in reply.texts)
        worst = max(worst, cost)
        if spent >= budget and cost > 1:
            full_after_budget += 1
        spent += cost
    budget_keys = redis.client.keys("bot:budget:*")
    counted = {
        k: redis.client.dump_all().get(k, b"").decode(errors="replace")[:80] for k in budget_keys
    }
    again = sender.sms("0", regular)
    alerts = sum(1 for line in web.proc.output().splitlines() if "budget" in line.lower())
    figures(
        {
            "budget_segments": budget,
            "new_senders": flood,
            "answered": sum(1 for r in done if r.ok),
            "msgs_per_s": round(len(done) / seconds, 1),
            "segments_counted_by_service": counted,
            "full_replies_after_budget_spent": full_after_budget,
            "worst_segments_per_inbound": worst,
            "regular_still_served": bool(again.ok and again.texts),
            "budget_log_lines": alerts,
        }
    )
    assert full_after_budget == 0
    assert worst <= 3
    assert again.ok and again.texts
    assert 2 <= alerts <= 4
