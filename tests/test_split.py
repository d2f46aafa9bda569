"""bot.text.split.split_reply: parts fit their budget, cut only at boundaries, rejoin."""

from __future__ import annotations

import re

import pytest

from bot.text.segments import analyse
from bot.text.split import split_reply

LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
PHONE = "0800 32 745"

ENGLISH = (
    "Welcome to the return information line. Reply with a number:\n"
    "1 Return home\n2 Help after return\n3 Talk to an advisor\n\n"
    f"Voluntary return is free. We pay your ticket and help you get travel documents. "
    f"Call us free of charge on {PHONE} from Monday to Friday.\n\n"
    "After you return you can get reintegration support worth up to EUR 1 500: help to start "
    "a small business, pay for training or find housing."
)
GEORGIAN = (
    "ნებაყოფლობითი დაბრუნება უფასოა. ჩვენ ვიხდით თქვენს ბილეთს და გეხმარებით სამგზავრო "
    f"დოკუმენტების მიღებაში. დარეკეთ უფასოდ: {PHONE}. დაბრუნების შემდეგ შეგიძლიათ მიიღოთ "
    "რეინტეგრაციის დახმარება 1500 ევრომდე: მცირე ბიზნესის დასაწყებად, სწავლისთვის ან "
    "საცხოვრებლისთვის. დაბრუნება თქვენი არჩევანია. არავინ გაიძულებთ."
)
PERSIAN = (
    "بازگشت داوطلبانه رایگان است. ما هزینه بلیت شما را می\u200cپردازیم و در گرفتن مدارک سفر "
    f"به شما کمک می\u200cکنیم. تماس رایگان: {LRI}{PHONE}{PDI} از دوشنبه تا جمعه. "
    f"نشانی: {FSI}Rue des Chartreux 21, 1000 Bruxelles{PDI}. پس از بازگشت می\u200cتوانید "
    "تا ۱۵۰۰ یورو کمک برای ادغام دوباره دریافت کنید: برای شروع یک کسب\u200cوکار کوچک، آموزش "
    "یا مسکن. بازگشت انتخاب شماست. هیچ\u200cکس شما را مجبور نمی\u200cکند."
)
ARABIC = (
    "العودة الطوعية مجانية. ندفع ثمن تذكرتك ونساعدك في الحصول على وثائق السفر. "
    f"اتصل مجانًا على {LRI}{PHONE}{PDI} أو بالمستشار {LRI}+32 2 213 44 11{PDI}. "
    f"{RLI}المستشار: {LRI}Ahmed B.{PDI} في مكتب {FSI}Fedasil Brussels{PDI}{PDI} "
    "بعد عودتك يمكنك الحصول على دعم لإعادة الإدماج يصل إلى 1500 يورو: لبدء مشروع صغير أو "
    "للتدريب أو للسكن. العودة قرارك. لن يجبرك أحد. المحادثة سرية."
)
UNITS = [PHONE, "EUR 1 500", "1500 ევრომდე", "۱۵۰۰ یورو", "1500 يورو", "+32 2 213 44 11"]


def isolates(text: str) -> list[str]:
    """The outermost bidi isolates of a text, each from its opener to its PDI."""
    spans, depth, opened = [], 0, 0
    for index, char in enumerate(text):
        if char in (LRI, RLI, FSI):
            opened = index if depth == 0 else opened
            depth += 1
        elif char == PDI and depth:
            depth -= 1
            if depth == 0:
                spans.append(text[opened : index + 1])
    return spans


def check(text: str, parts: list[str], *, segments: int = 1, max_parts: int = 3) -> None:
    """Every invariant split_reply promises, for parts that all fit their budget."""
    assert 1 <= len(parts) <= max_parts
    # The parts rejoin to the text; only whitespace was dropped, and only at the cuts.
    position = 0
    for index, part in enumerate(parts):
        if index:
            gap = re.match(r"\s+", text[position:])
            assert gap, f"cut at {position} is not at whitespace"
            position = gap.end() + position
        assert part and part == part.strip()
        assert text.startswith(part, position)
        position += len(part)
    assert position == len(text)
    # No word, number or isolate is broken.
    assert [word for part in parts for word in part.split()] == text.split()
    for unit in UNITS:
        if unit in text:
            assert any(unit in part for part in parts), unit
    assert [span for part in parts for span in isolates(part)] == isolates(text)
    for part in parts:
        assert part.count(PDI) == sum(part.count(char) for char in (LRI, RLI, FSI))
        assert analyse(part).segments <= segments


def test_text_that_fits_is_returned_whole() -> None:
    assert split_reply("Reply 1 to confirm.") == ["Reply 1 to confirm."]
    assert split_reply("a" * 160) == ["a" * 160]
    assert split_reply("") == [""]


def test_english_is_cut_between_paragraphs_first() -> None:
    parts = split_reply(ENGLISH)
    check(ENGLISH, parts)
    assert parts == ENGLISH.split("\n\n")


def test_english_with_one_part_per_sentence_when_paragraphs_are_too_long() -> None:
    text = ENGLISH.replace("\n\n", " ").replace("\n", " ")
    parts = split_reply(text, max_parts=5)
    check(text, parts, max_parts=5)
    assert all(part.endswith((".", ":")) for part in parts[:-1])


def test_english_with_two_segments_per_part() -> None:
    parts = split_reply(ENGLISH, max_segments_per_part=2)
    check(ENGLISH, parts, segments=2)
    assert len(parts) == 2
    assert all(analyse(part).encoding == "GSM-7" for part in parts)


def test_numbers_are_never_cut() -> None:
    text = (f"Call the free line on {PHONE}, or pay EUR 350 by 31 12 2025. " * 12).strip()
    for segments in (1, 2):
        parts = split_reply(text, max_segments_per_part=segments, max_parts=20)
        check(text, parts, segments=segments, max_parts=20)
        assert sum(part.count("EUR 350") for part in parts) == 12
        assert sum(part.count(PHONE) for part in parts) == 12
        assert sum(part.count("31 12 2025") for part in parts) == 12


@pytest.mark.parametrize("width", range(0, 40))
def test_number_near_the_limit_moves_whole(width: int) -> None:
    text = "word " * 26 + "x" * width + f" call {PHONE} now, it is free."
    parts = split_reply(text, max_parts=5)
    check(text, parts, max_parts=5)


def test_georgian() -> None:
    parts = split_reply(GEORGIAN, max_parts=6)
    check(GEORGIAN, parts, max_parts=6)
    assert all(analyse(part).encoding == "UCS-2" for part in parts)


def test_persian_with_isolates_and_zwnj() -> None:
    parts = split_reply(PERSIAN, max_parts=8)
    check(PERSIAN, parts, max_parts=8)
    assert any(f"{LRI}{PHONE}{PDI}" in part for part in parts)
    assert any(f"{FSI}Rue des Chartreux 21, 1000 Bruxelles{PDI}" in part for part in parts)


def test_arabic_with_nested_isolates() -> None:
    parts = split_reply(ARABIC, max_parts=8)
    check(ARABIC, parts, max_parts=8)
    nested = f"{RLI}المستشار: {LRI}Ahmed B.{PDI} في مكتب {FSI}Fedasil Brussels{PDI}{PDI}"
    assert any(nested in part for part in parts)


@pytest.mark.parametrize("width", range(20, 70))
def test_isolate_near_the_limit_moves_whole(width: int) -> None:
    text = "ب" * width + f" المكتب: {FSI}Fedasil Brussels, Rue des Chartreux{PDI} الآن."
    parts = split_reply(text, max_parts=4)
    check(text, parts, max_parts=4)
    assert any(f"{FSI}Fedasil Brussels, Rue des Chartreux{PDI}" in part for part in parts)


@pytest.mark.parametrize("width", range(0, 60, 3))
def test_nested_isolates_near_the_limit_move_whole(width: int) -> None:
    nested = f"{RLI}المستشار {LRI}Ahmed B.{PDI} في {FSI}Fedasil Brussels{PDI}{PDI}"
    text = "كلمة " * (width // 5) + "ب" * (width % 5 + 20) + f" {nested} " + "ت" * 30
    parts = split_reply(text, max_parts=4)
    check(text, parts, max_parts=4)
    assert any(nested in part for part in parts)


def test_unclosed_isolate_is_kept_to_the_end_of_its_line() -> None:
    text = "ب" * 50 + f" المستشار {LRI}Ahmed B. Fedasil\nسطر " + "ت" * 60
    parts = split_reply(text, max_parts=4)
    assert any(f"{LRI}Ahmed B. Fedasil" in part for part in parts)


def test_last_part_holds_the_rest_when_parts_run_out() -> None:
    parts = split_reply(GEORGIAN, max_parts=2)
    assert len(parts) == 2
    assert analyse(parts[0]).segments == 1
    assert analyse(parts[1]).segments > 1
    assert " ".join(parts).split() == GEORGIAN.split()


def test_a_word_too_long_for_one_part_is_sent_whole() -> None:
    url = "https://www.fedasil.be/" + "x" * 200
    text = f"Read more: {url} or call {PHONE}."
    parts = split_reply(text)
    assert parts == ["Read more:", url, f"or call {PHONE}."]


def test_gsm_and_ucs2_parts_are_measured_separately() -> None:
    text = "a" * 150 + ". " + "Thanks 👍 " * 4 + "Thanks 👍"
    parts = split_reply(text)
    assert [analyse(part).encoding for part in parts] == ["GSM-7", "UCS-2"]
    check(text, parts)


def test_smart_encoding_gives_longer_parts() -> None:
    text = ("Reply “YES” to confirm your appointment. " * 6).strip()
    plain = split_reply(text, max_parts=10)
    smart = split_reply(text, max_parts=10, smart_encoding=True)
    assert len(smart) < len(plain)


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_reply("text", max_parts=0)


def test_a_footer_never_goes_alone_in_the_last_part():
    body = "First sentence of the notice here. " * 8 + "The last sentence is here."
    text = body + "\n0 Main menu."
    assert len(split_reply(body, max_segments_per_part=2)) == 1  # the body alone fits
    parts = split_reply(text, max_segments_per_part=2)
    assert parts[-1] == "The last sentence is here.\n0 Main menu."
    assert parts[0] == body.removesuffix(" The last sentence is here.")
