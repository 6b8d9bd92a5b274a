"""What every page shares: the templates, rendering a page in the user's
language, reading a posted form (bounded), and the not-found page that also
answers for what is out of the user's scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine

from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.notify import measure_zh
from envwatch.auth.sessions import SessionUser
from envwatch.web.i18n import LANGUAGES, N_, language, template_words, translator


def _templates(lang: str) -> Environment:
    """The pages' templates in ``lang``: Jinja's i18n extension, its ``_()`` and
    ``gettext()`` reading the catalogue of ``lang`` (``web/i18n.py``)."""
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    environment.globals.update(template_words(lang))
    # An emergency-list measure (``cut:0.3+transport``) as the page's language says it.
    environment.filters["measure"] = measure_zh if lang == "zh" else str
    return environment


TEMPLATES_BY_LANGUAGE = {lang: _templates(lang) for lang in LANGUAGES}
TEMPLATES = TEMPLATES_BY_LANGUAGE["zh"]
# Alert levels (``alerts/policy.toml``) and their msgids.
LEVELS = {
    "notice": N_("level_notice"),
    "warning": N_("level_warning"),
    "alarm": N_("level_alarm"),
    "severe": N_("level_severe"),
}
MAX_FORM_BYTES = 64 << 10


def render(
    request: Request, template: str, user: SessionUser | None, status: int = 200, **values: Any
) -> HTMLResponse:
    lang = language(request)
    desk: AlertDesk = request.app.state.alert_desk()
    workflow = desk.workflow
    english = lang == "en"
    words = translator(lang)
    context = {
        "lang": lang,
        "t": words,
        "user": user,
        "levels": {level: words[key] for level, key in LEVELS.items()},
        "states": {s: s for s in workflow.states} if english else workflow.states,
        "actions": {a: a for a in workflow.actions} if english else workflow.actions,
        "outcomes": workflow.outcomes,
        **values,
    }
    page = TEMPLATES_BY_LANGUAGE[lang].get_template(template).render(context)
    response = HTMLResponse(page, status_code=status)
    if request.query_params.get("lang") in {"zh", "en"}:
        response.set_cookie("lang", lang, samesite="lax")
    return response


def not_found(request: Request, user: SessionUser | None) -> HTMLResponse:
    """404 for what does not exist and for what is not the user's to see alike."""
    words = translator(language(request))
    return render(request, "error.html", user, status=404, message=words["not_found"])


async def form_lists(request: Request) -> dict[str, list[str]]:
    """A posted form with every value of each field (checkboxes, multiple selects)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", "replace"))


async def form(request: Request) -> dict[str, str]:
    return {key: values[-1] for key, values in (await form_lists(request)).items()}


def database(request: Request) -> Engine:
    engine: Engine = request.app.state.database()
    return engine
