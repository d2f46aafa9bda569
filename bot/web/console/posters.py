"""Poster pages: pick languages, see the printable page, download the PDF."""

from __future__ import annotations

from flask import Response, render_template, request, url_for

from bot.web.console import common, poster
from bot.web.console.blueprint import bp
from bot.web.console.security import require


def _langs() -> list[str]:
    return [x for x in request.args.get("langs", "").split(",") if x][:12]


@bp.get("/posters")
@require("editor")
def posters_page() -> str:
    """The languages, each with its poster and PDF; a sheet of several."""
    engine = common.service().runtime.engine
    missing = poster.missing_values(engine, common.settings())
    return render_template(
        "console/posters.html",
        languages=[(x, engine.tr.language_name(x)) for x in engine.settings.languages],
        missing=missing,
        production=common.settings().production,
    )


@bp.get("/posters/sheet")
@require("editor")
def poster_sheet() -> Response:
    """The printable page for `?langs=ka` or `?langs=ka,hy,fa`."""
    css = url_for("console.static", filename="console/poster.css")
    try:
        body = poster.html(common.service().runtime.engine, common.settings(), _langs(), css)
    except poster.PosterError as exc:
        return Response(f"409 Conflict: {exc}\n", status=409, mimetype="text/plain")
    return Response(body, mimetype="text/html")


@bp.get("/posters/poster.pdf")
@require("editor")
def poster_pdf() -> Response:
    """The same sheet as PDF."""
    try:
        data = poster.pdf(common.service().runtime.engine, common.settings(), _langs())
    except poster.PosterError as exc:
        return Response(f"409 Conflict: {exc}\n", status=409, mimetype="text/plain")
    name = "poster-" + "-".join(_langs()) + ".pdf"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
