"""The flows map: each flow as an SVG graph with its warnings, and the draft check.

Editors upload a flow file to check it against the validator (errors as `line:col`) and,
when it has none, try it in the draft simulator; nothing is published from here.
"""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for
from markupsafe import Markup

from bot.settings import service_values
from bot.web.console import common, drafts, flowmap
from bot.web.console.blueprint import bp
from bot.web.console.i18n import gettext
from bot.web.console.security import require


@bp.get("/flows")
@require("editor")
def flows_page() -> str:
    """Every flow's map, warnings beside the nodes they concern."""
    runtime = common.service().runtime
    maps = []
    number = 0
    for flow in runtime.engine.flows.flows.values():
        listed = []
        by_node: dict[str, list[int]] = {}
        for problem in runtime.warnings:
            if not problem.path.endswith(flow.path.split("/")[-1]):
                continue
            number += 1
            node = flowmap.node_of(flow, problem)
            by_node.setdefault(node or "", []).append(number)
            listed.append((number, node, problem))
        marks = {k: tuple(v) for k, v in by_node.items()}
        # Our own SVG: every value in it is escaped by flowmap.svg.
        picture = Markup(flowmap.svg(flow, marks))  # noqa: S704  # nosec B704
        maps.append({"flow": flow, "svg": picture, "warnings": listed})
    return render_template("console/flows.html", maps=maps, problems=None)


@bp.post("/flows/check")
@require("editor")
def check_upload() -> str | tuple[str, int]:
    """Check an uploaded flow file with the validator; keep it as a draft if it has no error."""
    upload = request.files.get("flow")
    try:
        if upload is None:
            raise drafts.DraftError(gettext("Choose a flow file to check."))
        name = drafts.check_filename(upload.filename or "")
        data = upload.stream.read(drafts.MAX_DRAFT_BYTES + 1)
        if len(data) > drafts.MAX_DRAFT_BYTES:
            raise drafts.DraftError("the file is larger than 256 KB")
        text = data.decode("utf-8")
    except (drafts.DraftError, UnicodeDecodeError) as exc:
        return render_template("console/check.html", error=str(exc), problems=[]), 400
    problems = drafts.check(common.settings().flows_path, name, text)
    errors = [p for p in problems if p.severity == "error"]
    draft_id = None if errors else drafts.save(common.service().redis, name, text)
    return render_template(
        "console/check.html", error="", name=name, problems=problems, draft_id=draft_id
    )


@bp.route("/flows/draft/<draft_id>", methods=["GET", "POST"])
@require("editor")
def draft(draft_id: str) -> Response | str:
    """Try a checked draft: the engine on the draft, nothing published, nothing sent."""
    client = common.service().redis
    found = drafts.load(client, draft_id)
    if found is None:
        abort(404, "this draft has expired or never existed; upload the file again")
    settings = common.settings()
    if request.method == "POST":
        body = request.form.get("body", "")[:1600]
        channel = "whatsapp" if request.form.get("channel") == "whatsapp" else "sms"
        lang = request.form.get("lang") or None
        drafts.step(
            client, settings.flows_path, settings.locales_path, service_values(settings),
            draft_id, body, channel, lang, int(common.now()),
        )  # fmt: skip
        return redirect(url_for("console.draft", draft_id=draft_id))
    languages = common.service().runtime.engine.settings.languages
    return render_template(
        "console/draft.html",
        name=found[0],
        draft_id=draft_id,
        log=drafts.transcript(client, draft_id),
        languages=languages,
    )
