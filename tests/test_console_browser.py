"""The console in a real headless browser: Debian's chromium and chromium-driver, selenium.

The app runs in a real server (werkzeug's, in a thread, on a free port) on the test Redis;
a simulated person asks for a callback through the real webhook, signed like Twilio.
Screenshots of each step go to var/screenshots/ (CI keeps them as artefacts).
Skipped, with the reason, only where Debian's chromium-driver is not installed.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from bot.settings import CHECKOUT
from bot.store.staff import Staff
from tests.conftest import PUBLIC_URL, TEST_AUTH_TOKEN, TwilioHelper

pytestmark = pytest.mark.browser

SCREENSHOTS = CHECKOUT / "var" / "screenshots"
"""Where the screenshots go (README, "Staff console"; ignored by git, kept by CI)."""
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
PERSON = "+32470000001"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1280,1000",
)  # fmt: skip

if not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()):
    pytest.skip(
        "Debian's chromium and chromium-driver are not installed: "
        "apt-get install chromium chromium-driver (.ci/run does)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def server(make_app, jobs_flows):
    """The app (callback flow, with Georgian) served on a free port; its base URL."""
    app = make_app(BOT_FLOWS_DIR=str(jobs_flows), BOT_LINE_NUMBER="+32460000000")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    """Headless chromium with a fresh profile and a download folder."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.downloads = downloads
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def log_in(driver, base: str, name: str) -> None:
    driver.get(base + "/console/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.ID, "logout")))


def log_out(driver) -> None:
    driver.find_element(By.ID, "logout").click()
    WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.ID, "username")))


def person_asks_for_a_callback(base: str) -> None:
    """What a phone does through Twilio: four signed messages to the live webhook."""
    helper = TwilioHelper(None)
    for text in ("hi", "2", "yes", "1"):
        params = helper.message(text, sender=PERSON)
        signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
            PUBLIC_URL + "/webhooks/twilio", params
        )
        answer = requests.post(
            base + "/webhooks/twilio",
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=10,
        )
        assert answer.status_code == 200
    assert "Your request is sent." in answer.text


def image_loaded(driver, element) -> bool:
    return bool(
        driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", element
        )
    )


def test_the_console_in_a_real_browser(server, browser, redis):
    staff = Staff(redis)
    staff.add("ana", "counsellor", PASSWORD)
    staff.add("ed", "editor", PASSWORD)
    wait = WebDriverWait(browser, 15)

    # A counsellor logs in; a callback appears after a person asks for one.
    log_in(browser, server, "ana")
    shot(browser, "01-dashboard")
    browser.get(server + "/console/callbacks")
    assert browser.find_elements(By.ID, "no-callbacks")
    person_asks_for_a_callback(server)
    browser.refresh()
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.callback")))
    assert "English" in row.text and "morning" in row.text
    assert "470000001" not in browser.page_source
    shot(browser, "02-callback-waiting")

    # Claim it: the number appears, for this counsellor; then reached: it is gone.
    row.find_element(By.CSS_SELECTOR, "button.claim").click()
    number = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.number a")))
    assert number.text == PERSON
    shot(browser, "03-callback-claimed")
    browser.find_element(By.CSS_SELECTOR, 'button[value="reached"]').click()
    wait.until(ec.presence_of_element_located((By.ID, "no-callbacks")))
    assert "470000001" not in browser.page_source
    shot(browser, "04-callback-reached")

    # Statistics with a chart, and the CSV.
    browser.get(server + "/console/stats")
    chart = wait.until(ec.presence_of_element_located((By.ID, "chart-languages")))
    wait.until(lambda d: image_loaded(d, chart))
    shot(browser, "05-stats")
    browser.find_element(By.ID, "csv").click()
    target = browser.downloads / "stats.csv"
    deadline = time.monotonic() + 15
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = target.read_text().splitlines()
    assert lines[0].endswith(",count")
    assert any(line.endswith(",<5") for line in lines[1:])
    log_out(browser)

    # An editor: the flows map as SVG, a Georgian poster with its QR code.
    log_in(browser, server, "ed")
    browser.get(server + "/console/flows")
    svg = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.flowmap")))
    assert svg.find_elements(By.CSS_SELECTOR, "g.node")
    shot(browser, "06-flows-map")
    browser.get(server + "/console/posters")
    browser.find_element(By.ID, "poster-ka").click()
    qr = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "img.qr")))
    wait.until(lambda d: image_loaded(d, qr))
    assert "ქართული" in browser.find_element(By.TAG_NAME, "body").text
    assert "+32460000000" in browser.page_source
    shot(browser, "07-poster-ka")
    browser.get(server + "/console/")
    log_out(browser)
    browser.get(server + "/console/")
    assert browser.current_url.endswith("/console/login")

    # A counsellor gets 403 on the flows.
    log_in(browser, server, "ana")
    browser.get(server + "/console/flows")
    assert "403 Forbidden" in browser.find_element(By.TAG_NAME, "body").text
    shot(browser, "08-counsellor-403")


def test_the_simulator_page_talks_to_the_real_webhook(server, browser, redis):
    Staff(redis).add("ed", "editor", PASSWORD)
    log_in(browser, server, "ed")
    browser.get(server + "/console/simulator")
    box = browser.find_element(By.ID, "sim-body")
    box.send_keys("hi")
    box.submit()
    WebDriverWait(browser, 15).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#sim-log .m.out")) > 0
    )
    replies = browser.find_elements(By.CSS_SELECTOR, "#sim-log .m.out")
    assert not replies[0].text.startswith("!")
    shot(browser, "09-simulator")
    errors = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert errors == []
