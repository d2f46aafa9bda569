"""bot.text.segments against Twilio's calculator (tests/data/segments/expected.json) and by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.segments import segments as segments_command
from bot.text import segments
from bot.text.segments import analyse, graphemes, smart_encode

DATA = Path(__file__).parent / "data" / "segments"
CORPUS = json.loads((DATA / "corpus.json").read_text(encoding="utf-8"))["texts"]
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
TEXTS = {entry["id"]: entry["text"] for entry in CORPUS}
LANGUAGES = {"en", "fr", "nl", "ka", "hy", "fa", "ar", "ru", "uk", "tr", "ckb", "ps"}


def _unit_bits(encoding: str) -> int:
    return segments.GSM7_UNIT_BITS if encoding == segments.GSM7 else segments.UCS2_UNIT_BITS


def _js_clusters(text: str) -> list[str]:
    """Clusters as the JS library uses them: grapheme-splitter's, with CR LF cut in two."""
    return [
        piece
        for cluster in graphemes(text)
        for piece in (("\r", "\n") if cluster == "\r\n" else (cluster,))
    ]


def _cluster_bits(text: str, encoding: str) -> list[int]:
    """Bits of each cluster, from the JS library's own GSM-7 table."""
    if encoding == segments.GSM7:
        return [7 * EXPECTED["gsm7_septets"][cluster] for cluster in _js_clusters(text)]
    return [16 * (len(cluster.encode("utf-16-le")) // 2) for cluster in _js_clusters(text)]


def test_corpus_is_big_and_covers_every_language() -> None:
    assert len(CORPUS) >= 200
    assert LANGUAGES <= {entry["lang"] for entry in CORPUS}
    assert set(TEXTS) == set(EXPECTED["results"])


@pytest.mark.parametrize("variant", ["plain", "smart"])
@pytest.mark.parametrize("text_id", sorted(TEXTS))
def test_matches_twilio_calculator(text_id: str, variant: str) -> None:
    text = TEXTS[text_id]
    expected = EXPECTED["results"][text_id][variant]
    info = analyse(text, smart_encoding=variant == "smart")
    assert info.encoding == expected["encoding"]
    assert info.segments == expected["segments"]
    assert info.characters == expected["characters"]
    assert info.units == expected["units"]
    assert info.units * _unit_bits(info.encoding) == expected["message_bits"]
    assert list(info.non_gsm) == expected["non_gsm"]
    measured = smart_encode(text) if variant == "smart" else text
    assert measured == expected.get("text", text)
    clusters = _js_clusters(measured)
    assert "".join(clusters) == measured
    assert len(clusters) == expected["graphemes"]
    multi = [[index, cluster] for index, cluster in enumerate(clusters) if len(cluster) > 1]
    assert multi == expected["multi_graphemes"]
    assert segments._pack(_cluster_bits(measured, info.encoding)) == expected["segment_bits"]


def test_tables_match_the_js_library() -> None:
    septets = {char: 1 for char in segments.GSM7_BASIC}
    septets |= {char: 2 for char in segments.GSM7_EXTENSION}
    assert septets == EXPECTED["gsm7_septets"]
    assert segments.SMART_ENCODING == EXPECTED["smart_encoding"]


def test_grapheme_break_property_matches_grapheme_splitter() -> None:
    ranges = json.loads((DATA / "grapheme_break.json").read_text(encoding="utf-8"))["ranges"]
    names = segments.BREAK_PROPERTY_NAMES
    expected = ["Other"] * 0x110000
    for first, last, name in ranges:
        expected[first : last + 1] = [name] * (last - first + 1)
    mismatches = [
        hex(code)
        for code in range(0x110000)
        if names[segments.break_property(code)] != expected[code]
    ]
    assert mismatches == []


def test_160_gsm_characters_fit_one_segment_161_need_two() -> None:
    assert analyse("a" * 160) == segments.SegmentInfo("GSM-7", 1, 160, 160, ())
    assert analyse("a" * 161).segments == 2
    assert analyse("a" * 306).segments == 2  # 2 x 153 once a header is needed
    assert analyse("a" * 307).segments == 3


def test_70_ucs2_characters_fit_one_segment_71_need_two() -> None:
    assert analyse("ა" * 70).segments == 1
    assert analyse("ა" * 71).segments == 2
    assert analyse("ა" * 134).segments == 2  # 2 x 67
    assert analyse("ა" * 135).segments == 3
    assert analyse("ა" * 70).encoding == "UCS-2"


def test_extension_character_costs_two_septets() -> None:
    assert analyse("€").characters == 2
    assert analyse("{[~^|\\]}").units == 16
    assert analyse("€" * 80).segments == 1
    assert analyse("€" * 81).segments == 2
    assert analyse("a" * 159 + "€").segments == 2


def test_escape_pair_is_never_split_across_segments() -> None:
    # The escape would be septet 153 of part 1: the whole pair moves to part 2.
    text = "a" * 152 + "€" + "b" * 20
    assert segments._pack(_cluster_bits(text, "GSM-7")) == [152 * 7, (2 + 20) * 7]


def test_surrogate_pair_is_never_split_across_segments() -> None:
    text = "ა" * 66 + "😀" + "ბ" * 10
    info = analyse(text)
    assert (info.segments, info.characters, info.units) == (2, 77, 78)
    assert segments._pack(_cluster_bits(text, "UCS-2")) == [66 * 16, 12 * 16]


def test_one_emoji_forces_ucs2_and_counts_two_units() -> None:
    info = analyse("Your request is received 👍")
    assert info.encoding == "UCS-2"
    assert info.non_gsm == ("👍",)
    assert info.units == info.characters + 1


def test_zwj_sequence_and_flag_count_as_one_character() -> None:
    info = analyse("👨\u200d👩\u200d👧\u200d👦🇧🇪")
    assert info.non_gsm == ("👨\u200d👩\u200d👧\u200d👦", "🇧🇪")
    assert (info.characters, info.units) == (2, 15)


def test_bidi_isolates_force_ucs2_even_with_smart_encoding() -> None:
    text = "Call \u20680800 32 745\u2069 today."
    assert analyse(text, smart_encoding=True).non_gsm == ("\u2068", "\u2069")


def test_smart_encoding_turns_curly_french_back_to_gsm7() -> None:
    text = "Répondez « OUI » pour confirmer – c’est gratuit… À bientôt !"
    text = text.replace("bientôt", "bientot")  # ô has no GSM-7 form, smart or not
    assert analyse(text).encoding == "UCS-2"
    assert analyse(text).non_gsm == ("«", "»", "–", "’", "…", "À")
    text = text.replace("À", "A")
    info = analyse(text, smart_encoding=True)
    assert info.encoding == "GSM-7"
    assert smart_encode(text) == 'Répondez " OUI " pour confirmer - c\'est gratuit... A bientot !'


def test_smart_encoding_is_off_by_default_and_keeps_gsm_text() -> None:
    assert analyse("“hi”").encoding == "UCS-2"
    assert smart_encode("plain GSM text €") == "plain GSM text €"


def test_empty_text_is_one_segment() -> None:
    assert analyse("") == segments.SegmentInfo("GSM-7", 1, 0, 0, ())


def test_cli_prints_encoding_segments_and_culprits() -> None:
    result = CliRunner().invoke(segments_command, ["Bonjour “Marie” 😀"])
    assert result.exit_code == 0, result.output
    assert "encoding:   UCS-2" in result.output
    assert "segments:   1" in result.output
    assert "characters: 17" in result.output
    assert "U+201C" in result.output
    assert "U+1F600" in result.output


def test_cli_json() -> None:
    result = CliRunner().invoke(segments_command, ["--json", "a" * 161])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "encoding": "GSM-7",
        "segments": 2,
        "characters": 161,
        "units": 161,
        "smart_encoding": False,
        "non_gsm": [],
    }


def test_cli_json_lists_each_culprit_once_with_code_points() -> None:
    result = CliRunner().invoke(segments_command, ["--json", "\u2066x\u2069 🇧🇪🇧🇪"])
    payload = json.loads(result.output)
    assert payload["non_gsm"] == [
        {"char": "\u2066", "code_points": ["U+2066"], "count": 1},
        {"char": "\u2069", "code_points": ["U+2069"], "count": 1},
        {"char": "🇧🇪", "code_points": ["U+1F1E7", "U+1F1EA"], "count": 2},
    ]


def test_cli_reads_standard_input_and_smart_encoding() -> None:
    runner = CliRunner()
    result = runner.invoke(segments_command, ["--json"], input="“Hello”\n")
    assert json.loads(result.output)["characters"] == 7  # the trailing newline is dropped
    assert json.loads(result.output)["encoding"] == "UCS-2"
    result = runner.invoke(segments_command, ["--json", "--smart-encoding"], input="“Hello”\n")
    payload = json.loads(result.output)
    assert (payload["encoding"], payload["smart_encoding"]) == ("GSM-7", True)
    result = runner.invoke(segments_command, [], input="plain\n")
    assert "encoding:   GSM-7" in result.output
    assert "forced UCS-2" not in result.output


def _rule_by_rule(text: str) -> segments.SegmentInfo:
    """analyse() with every character going through the splitter's rules (no shortcut)."""
    clusters = [
        piece
        for cluster in segments._graphemes(text)
        for piece in (("\r", "\n") if cluster == "\r\n" else (cluster,))
    ]
    non_gsm = tuple(c for c in clusters if c not in segments._GSM7_SEPTETS)
    if non_gsm:
        units = [len(c.encode("utf-16-le", "surrogatepass")) // 2 for c in clusters]
        count = len(segments._pack([16 * u for u in units]))
        return segments.SegmentInfo(segments.UCS2, count, len(clusters), sum(units), non_gsm)
    units = [segments._GSM7_SEPTETS[c] for c in clusters]
    count = len(segments._pack([7 * u for u in units]))
    return segments.SegmentInfo(segments.GSM7, count, sum(units), sum(units), ())


def test_texts_of_one_cluster_per_character_skip_the_rules_with_the_same_result() -> None:
    """The shortcut for texts where no character can join a neighbour gives what the rules
    give, on random texts mixing such characters with every kind that can join."""
    import random

    simple = [*"ab \t\r\n\x7f\u200b\u2066\u2069", "ა", "Ա", "ا", "ж", "€", "é"]
    joining = [
        "\u0301",  # Extend
        "\u064b",  # Arabic vowel mark (Extend)
        "\u0600",  # Prepend
        "\u0903",  # SpacingMark
        "\u200d",  # ZWJ
        "\u1100\u1161\u11a8",  # Hangul L, V, T
        "\uac00\uac01",  # LV, LVT
        "\U0001f1e6\U0001f1ea",  # regional indicators
        "\U0001f466\U0001f3fb\u2764",  # E_Base_GAZ, E_Modifier, Glue_After_Zwj
        "\U0001f600",  # astral Other
    ]
    rng = random.Random(7)
    shortcut = 0
    for i in range(4000):
        pool = simple if i % 2 else simple + list("".join(joining))
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        shortcut += segments.one_per_character(text)
        assert graphemes(text) == segments._graphemes(text), ascii(text)
        assert analyse(text) == _rule_by_rule(text), ascii(text)
    assert 2000 <= shortcut < 4000  # both ways were taken
