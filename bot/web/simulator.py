"""A browser simulator at /simulator, for development only.

It lets a new user (or an NGO staff member trying a flow) chat with the running service in
any script from a web page: each message goes through the real webhook, signed with
twilio's RequestValidator exactly as Twilio would sign it, so what the page shows is what a
phone would get. It is never registered when BOT_ENV=production.
"""

from __future__ import annotations

import uuid

# Parses only our own service's TwiML: bandit B405 does not apply.
from xml.etree import ElementTree  # nosec B405

from flask import Blueprint, Response, current_app, jsonify, request
from twilio.request_validator import RequestValidator

from bot.settings import Settings

bp = Blueprint("simulator", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Return information line: simulator</title>
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem}
#log{border:1px solid #ccc;border-radius:8px;padding:.5rem;height:60vh;overflow-y:auto}
.m{white-space:pre-wrap;margin:.4rem 0;padding:.4rem .6rem;border-radius:8px;max-width:85%}
.in{background:#dcf8c6;margin-left:auto}.out{background:#eee}
form{display:flex;gap:.5rem;margin-top:.5rem}input[name=body]{flex:1}
small{color:#666}
</style></head><body>
<h1>Simulator</h1>
<p><small>Messages go through the real webhook, signed like Twilio's. Try "hi",
"გამარჯობა", "سلام" or "مرحبا", then numbers, MENU, BACK, LANG, STOP, FORGET.</small></p>
<p><label>From <input id="from" value="+32470000001" size="16"></label>
<label><select id="channel"><option>sms</option><option>whatsapp</option></select></label></p>
<div id="log"></div>
<form id="f"><input name="body" autocomplete="off" dir="auto" autofocus>
<button>Send</button></form>
<script>
const log=document.getElementById('log');
function add(text,cls){const d=document.createElement('div');d.className='m '+cls;
d.dir='auto';d.textContent=text;log.appendChild(d);log.scrollTop=log.scrollHeight;}
document.getElementById('f').onsubmit=async e=>{e.preventDefault();
const body=e.target.body.value;e.target.body.value='';add(body,'in');
const r=await fetch('send',{method:'POST',headers:{'Content-Type':'application/json'},
body:JSON.stringify({body,from:document.getElementById('from').value,
channel:document.getElementById('channel').value})});
const j=await r.json();if(j.error){add('! '+j.error,'out');return;}
j.replies.forEach(t=>add(t,'out'));};
</script></body></html>"""


@bp.get("/simulator/")
def page() -> Response:
    """The chat page."""
    return Response(PAGE, mimetype="text/html")


@bp.post("/simulator/send")
def send() -> Response:
    """Post one message to our own webhook, signed like Twilio, and return the replies."""
    settings: Settings = current_app.extensions["bot.settings"]
    data = request.get_json(silent=True) or {}
    body = str(data.get("body", ""))[:1600]
    sender = str(data.get("from") or "+32470000001")
    channel = data.get("channel") if data.get("channel") in ("sms", "whatsapp") else "sms"
    status, replies = post_to_webhook(settings, body, sender, channel)
    if status != 200:
        return jsonify(error=f"webhook answered {status}"), 502
    return jsonify(replies=replies)


def post_to_webhook(settings: Settings, body: str, sender: str, channel: str):
    """(status, reply texts) of one message posted to /webhooks/twilio, signed like Twilio.

    Also used by the staff console's simulator (bot.web.console.simulator).
    """
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": prefix + sender,
        "To": prefix + "+32000000000",
        "Body": body,
        "NumMedia": "0",
    }
    if channel == "whatsapp":
        params["WaId"] = sender.lstrip("+")
    public = (settings.public_url or request.host_url).rstrip("/")
    url = public + "/webhooks/twilio"
    token = settings.twilio_auth_token
    signature = RequestValidator(token).compute_signature(url, params)
    client = current_app.test_client()
    reply = client.post(
        "/webhooks/twilio",
        data=params,
        headers={"X-Twilio-Signature": signature},
        base_url=public,
    )
    if reply.status_code != 200:
        return reply.status_code, []
    return 200, reply_texts(reply.get_data(as_text=True))


def reply_texts(twiml: str) -> list[str]:
    """The texts of the <Message> elements of a TwiML reply."""
    # Our own service's reply: bandit B314 does not apply.
    root = ElementTree.fromstring(twiml)  # noqa: S314  # nosec B314
    texts = []
    for message in root.iter("Message"):
        body = message.find("Body")
        texts.append((body.text if body is not None else message.text) or "")
    return texts


def init_app(app, settings: Settings) -> None:
    """Register the simulator unless this is production."""
    if not settings.production:
        app.register_blueprint(bp)
