"""Posters (bot.web.console.poster, `bot poster`): number, QR, first word, two lines; PDF."""

import io
import re

import pytest
import segno
from click.testing import CliRunner
from pypdf import PdfReader

from bot.cli import main
from bot.core.runtime import Runtime
from bot.i18n.detect import suggest_language
from bot.settings import Settings
from bot.web.console import poster
from tests.console_helpers import staff_client

SECRET = "Zq7vN2xK9pL4mR8sT1wY6bC3dF5gH0jQ-aE"


@pytest.fixture(scope="module")
def engine():
    return Runtime.load().engine


def test_the_first_word_selects_each_language(engine):
    languages = engine.settings.languages
    for lang in languages:
        assert suggest_language(poster.first_word(engine, lang), "", languages) == lang, lang


def test_a_development_poster_has_everything_and_a_sample_mark(engine):
    settings = Settings(line_number="+32460000000")
    page = poster.html(engine, settings, ["ka"])
    assert "SAMPLE" in page  # organisation_name is still a TODO
    assert "+32460000000" in page
    assert "ქართული" in page and 'dir="ltr"' in page
    assert re.search(r'<img class="qr" src="data:image/svg\+xml', page)
    assert "FORGET" in page  # how to erase your data
    link = poster.whatsapp_link("+32460000000", "ქართული")
    assert link.startswith("https://wa.me/32460000000?text=%E1%83")
    assert segno.make(link, error="m").svg_data_uri(scale=4, border=2) in page


def test_right_to_left_languages_are_marked(engine):
    page = poster.html(engine, Settings(), ["fa", "en"])
    assert '<section class="block" lang="fa" dir="rtl">' in page
    assert '<section class="block" lang="en" dir="ltr">' in page
    assert 'class="poster many"' in page


def test_no_poster_in_production_while_a_staff_value_is_a_placeholder(engine):
    settings = Settings(env="production", secret_key=SECRET, line_number="+32460000000")
    with pytest.raises(poster.PosterError, match="organisation_name"):
        poster.html(engine, settings, ["ka"])
    with pytest.raises(poster.PosterError, match="BOT_LINE_NUMBER"):
        poster.html(engine, Settings(env="production", secret_key=SECRET), ["ka"])
    with pytest.raises(poster.PosterError, match="unknown language"):
        poster.html(engine, Settings(), ["xx"])


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_renders_georgian_armenian_and_arabic_script(engine):
    data = poster.pdf(engine, Settings(line_number="+32460000000"), ["ka", "hy", "fa"])
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert "ქართული" in text and "Հայերեն" in text
    assert "فارسی" in text or "یسراف" in text  # pypdf may give Arabic script in visual order
    assert "+32460000000" in text and "SAMPLE" in text


def test_bot_poster_writes_the_pdf(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_SECRET_KEY", "x")
    out = tmp_path / "ka.pdf"
    result = CliRunner().invoke(main, ["poster", "ka", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ქართული" in _pdf_text(out.read_bytes())
    monkeypatch.setenv("BOT_ENV", "production")
    refused = CliRunner().invoke(main, ["poster", "ka", "--out", str(out)])
    assert refused.exit_code != 0 and "placeholders" in refused.output


def test_poster_pages_in_the_console(app, redis):
    client = staff_client(app, redis, "ed", "editor")
    page = client.get("/console/posters").get_data(as_text=True)
    assert 'id="poster-en"' in page and "SAMPLE" in page
    sheet = client.get("/console/posters/sheet?langs=en")
    assert sheet.status_code == 200 and 'class="qr"' in sheet.get_data(as_text=True)
    pdf = client.get("/console/posters/poster.pdf?langs=en")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get("/console/posters/sheet?langs=xx").status_code == 409
