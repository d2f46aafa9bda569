"""The flows map (SVG per flow, warnings beside their nodes) and the draft check and try."""

import io
import re
import shutil

import pytest

from bot.flow.loader import load_flows
from bot.web.console import flowmap
from tests.conftest import SERVICE_FLOWS
from tests.console_helpers import csrf_token, post, staff_client

WARNED = """\
title: Main
nodes:
  - id: welcome
    type: message
    text: "Hello."
    next: menu
  - id: menu
    type: menu
    text: "Pick:"
    options:
      - label: "Echo"
        goto: echo
  - id: echo
    type: question
    text: "Say something"
    save_as: said
    next: echoed
  - id: echoed
    type: end
    text: "You said: {said}"
  - id: orphan
    type: message
    text: "Nobody comes here."
"""


def upload(client, name: str, text: str, page: str = "/console/flows"):
    token = csrf_token(client, page)
    data = {"csrf_token": token, "flow": (io.BytesIO(text.encode()), name)}
    return client.post("/console/flows/check", data=data, content_type="multipart/form-data")


def test_every_flow_is_an_svg_graph(app, redis):
    client = staff_client(app, redis, "ed", "editor")
    page = client.get("/console/flows").get_data(as_text=True)
    flows = app.extensions["bot"].runtime.engine.flows.flows
    assert page.count("<svg") == len(flows)
    for flow in flows.values():
        for node in flow.nodes:
            assert f'id="node-{flow.id}-{node}"' in page


def test_warnings_are_drawn_beside_their_node(make_app, redis, tmp_path):
    folder = tmp_path / "flows"
    shutil.copytree(SERVICE_FLOWS, folder)
    (folder / "main.yaml").write_text(WARNED)
    app = make_app(BOT_FLOWS_DIR=str(folder))
    warnings = app.extensions["bot"].runtime.warnings
    assert any("orphan" in w.message or "reach" in w.message for w in warnings)
    client = staff_client(app, redis, "ed", "editor")
    page = client.get("/console/flows").get_data(as_text=True)
    node = re.search(r'<g class="node" id="node-main-orphan">.*?</g>', page).group(0)
    assert 'stroke="#c05800"' in node and "⚠ 1" in node
    assert re.search(r'<li value="1"><strong>orphan</strong> \d+:\d+: ', page)


def test_node_of_a_problem_is_the_node_its_line_falls_in(tmp_path):
    flows = load_flows(SERVICE_FLOWS)
    main = flows.flows["main"]
    second = list(main.nodes.values())[1]

    class P:
        line = second.line + 1

    assert flowmap.node_of(main, P()) == second.id


def test_an_upload_with_errors_lists_them_with_line_and_column(app, redis):
    client = staff_client(app, redis, "ed", "editor")
    broken = WARNED.replace("goto: echo", "goto: nowhere")
    response = upload(client, "main.yaml", broken)
    page = response.get_data(as_text=True)
    assert re.search(r"<code>main\.yaml:\d+:\d+</code> error: .*nowhere", page)
    assert "try-draft" not in page


def test_a_clean_upload_can_be_tried_without_publishing_it(app, redis):
    before = (SERVICE_FLOWS / "main.yaml").read_text()
    client = staff_client(app, redis, "ed", "editor")
    changed = WARNED.replace("Hello.", "Hello from the draft.").replace(
        '  - id: orphan\n    type: message\n    text: "Nobody comes here."\n', ""
    )
    page = upload(client, "main.yaml", changed).get_data(as_text=True)
    draft = re.search(r'href="(/console/flows/draft/[^"]+)" id="try-draft"', page).group(1)
    post(client, draft, {"body": "hi", "channel": "sms", "lang": "en"}, page=draft)
    tried = client.get(draft).get_data(as_text=True)
    assert "Hello from the draft." in tried
    assert (SERVICE_FLOWS / "main.yaml").read_text() == before
    live = app.extensions["bot"].runtime.engine.flows.flows["main"]
    assert "draft" not in str(live.nodes["welcome"].texts()[0].source)


@pytest.mark.parametrize("name", ["../main.yaml", "_config.yaml", "main.txt"])
def test_only_plain_flow_file_names_are_accepted(app, redis, name):
    client = staff_client(app, redis, "ed", "editor")
    response = upload(client, name, WARNED)
    assert response.status_code == 400 or "flow file" in response.get_data(as_text=True)


def test_a_counsellor_gets_403_on_flows(app, redis):
    client = staff_client(app, redis, "co", "counsellor")
    assert client.get("/console/flows").status_code == 403
    assert upload(client, "main.yaml", WARNED, page="/console/").status_code == 403
