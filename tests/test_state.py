"""Conversation state (bot.core.state): its copy and its JSON."""

import dataclasses

from bot.core.state import State


def test_copy_keeps_every_field_and_shares_nothing_mutable():
    full = State(
        flow="main", node="menu", vars={"country": "GE"}, lang="ka", lang_confirmed=True,
        history=["main.menu"], retries=2, seen=1700000000, opted_out=True, pending="forget",
    )  # fmt: skip
    assert all(
        getattr(full, f.name) != f.default
        for f in dataclasses.fields(State)
        if f.default is not dataclasses.MISSING
    ), "give every field a value that is not its default"
    copied = full.copy()
    assert copied == full
    assert copied.vars is not full.vars and copied.history is not full.history


def test_json_round_trip():
    state = State(flow="main", node="menu", vars={"a": "ბ"}, lang="ka", history=["main.menu"])
    assert State.from_json(state.to_json()) == state
