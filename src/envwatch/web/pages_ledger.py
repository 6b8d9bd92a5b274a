"""Pages of the positive lists (``/positive-lists``: every entry with its
criteria, reason, dates and deciders, open and closed, so an enterprise's
history reads in order), the counties' total-quantity ledgers (``/quota``:
balances per county and pollutant, the entries with their draws and the
balance after each) and carbon beside pollutants (``/carbon``: counties and
enterprises with CO2, pollutant tonnes, intensities, the change on the
previous year and the synergy class; monthly bars drawn by ``static/carbon.js``
from data in the page). Read within the one scope rule, like the API; they
render whole on the server, so they read without JavaScript."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.alerts.scope import SUPERVISOR_ROLES, scope_by
from envwatch.carbon.core import default_data
from envwatch.carbon.summary import enterprises_of, months_to_compare, summary
from envwatch.glossary import factor
from envwatch.hj212.codes import now_cst
from envwatch.ledger.positive import default_criteria, entry_view
from envwatch.ledger.quota_store import balances, entries
from envwatch.store.schema import County, Enterprise, PositiveListEntry, QuotaEntry
from envwatch.web.api_ledger import WRITERS, _counties_seen
from envwatch.web.i18n import language, translator
from envwatch.web.people import current_user
from envwatch.web.rendering import database, render

router = APIRouter()


def _counties(connection: Any) -> dict[str, str]:
    return dict(connection.execute(select(County.code, County.name_zh).order_by(County.code)).all())


def _code(value: str, digits: int = 6) -> str | None:
    return value if value.isdigit() and len(value) == digits else None


@router.get("/positive-lists", response_class=HTMLResponse, response_model=None)
async def positive_lists_page(
    request: Request, kind: str = "", open: str = "", county: str = "", enterprise: str = ""
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    english = language(request) == "en"
    criteria = default_criteria()
    kinds = {code: (k.name_en if english else k.name_zh) for code, k in criteria.of().kinds.items()}
    wanted_kind = kind if kind in kinds else ""
    wanted_county = _code(county)
    wanted_enterprise = (
        int(enterprise) if enterprise.isdigit() and 0 < int(enterprise) < 2**31 else None
    )

    def read() -> dict[str, Any]:
        query = (
            select(
                PositiveListEntry,
                Enterprise.name.label("enterprise_name"),
                Enterprise.county_code.label("county_code"),
            )
            .join(Enterprise, Enterprise.id == PositiveListEntry.enterprise_id)
            .where(scope_by(user, Enterprise.county_code, Enterprise.id))
        )
        if wanted_kind:
            query = query.where(PositiveListEntry.kind == wanted_kind)
        if open == "1":
            query = query.where(PositiveListEntry.removed_on.is_(None))
        if wanted_county:
            query = query.where(Enterprise.county_code == wanted_county)
        if wanted_enterprise is not None:
            query = query.where(Enterprise.id == wanted_enterprise)
        with database(request).connect() as connection:
            rows = connection.execute(
                query.order_by(
                    PositiveListEntry.enterprise_id,
                    PositiveListEntry.kind,
                    PositiveListEntry.added_on,
                    PositiveListEntry.id,
                )
            ).all()
            counties = _counties(connection)
        shown = []
        for row in rows:
            view = entry_view(row, criteria)
            view["enterprise"] = row.enterprise_name
            view["county_name"] = counties.get(row.county_code, row.county_code)
            view["kind_name"] = kinds.get(view["kind"], view["kind"])
            view["criteria_text"] = "；".join(
                c["en" if english else "zh"] for c in view["criteria"]
            )
            shown.append(view)
        return {
            "entries": shown,
            "counties": counties,
            "open_count": sum(1 for e in shown if e["open"]),
        }

    data = await asyncio.to_thread(read)
    return render(
        request,
        "positive_lists.html",
        user,
        kinds=kinds,
        filters={"kind": wanted_kind, "open": open == "1", "county": wanted_county},
        writer=user.role in WRITERS,
        **data,
    )


@router.get("/quota", response_class=HTMLResponse, response_model=None)
async def quota_page(request: Request, county: str = "", pollutant: str = "") -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    english = language(request) == "en"
    wanted_county = _code(county)
    wanted_pollutant = pollutant if factor(pollutant) is not None else None
    seen = _counties_seen(user)

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            counties = _counties(connection)
            shown_counties: list[str] | None
            if wanted_county is not None:
                shown_counties = [wanted_county] if seen is None or wanted_county in seen else []
            else:
                shown_counties = seen
            rows = balances(connection, shown_counties)
            items = entries(
                connection,
                scope_by(user, QuotaEntry.county_code, QuotaEntry.enterprise_id),
                wanted_county,
                wanted_pollutant,
            )
        for item in items:
            known = factor(item["pollutant"])
            item["pollutant_name"] = (
                (known.name_en if english else known.name_zh) if known else item["pollutant"]
            )
            item["county_name"] = counties.get(item["county"], item["county"])
            if user.role not in SUPERVISOR_ROLES:
                item["balance_after_t"] = None
        for row in rows:
            if english:
                row["pollutant_name"] = row["pollutant_name_en"]
        return {"balances": rows, "entries": items, "counties": counties}

    data = await asyncio.to_thread(read)
    return render(
        request,
        "quota.html",
        user,
        filters={"county": wanted_county, "pollutant": wanted_pollutant},
        writer=user.role in WRITERS,
        **data,
    )


def synergy_words(lang: str) -> dict[str, str]:
    """The synergy classes' names (``carbon/core.py`` ``Synergy``) in ``lang``."""
    words = translator(lang)
    return {
        "both_down": words["cb_syn_both_down"],
        "pollutants_down_carbon_up": words["cb_syn_p_down_c_up"],
        "pollutants_down_carbon_flat": words["cb_syn_p_down_c_flat"],
        "carbon_down_pollutants_up": words["cb_syn_c_down_p_up"],
        "carbon_down_pollutants_flat": words["cb_syn_c_down_p_flat"],
        "both_up": words["cb_syn_both_up"],
        "flat": words["cb_syn_flat"],
        "unknown": words["cb_syn_unknown"],
    }


@router.get("/carbon", response_class=HTMLResponse, response_model=None)
async def carbon_page(
    request: Request, year: str = "", county: str = "", enterprise: str = ""
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    today = now_cst().date()
    wanted = int(year) if year.isdigit() and 2001 <= int(year) <= 2100 else today.year
    wanted_county = _code(county)
    wanted_enterprise = (
        int(enterprise) if enterprise.isdigit() and 0 < int(enterprise) < 2**31 else None
    )
    condition = scope_by(user, Enterprise.county_code, Enterprise.id)
    if wanted_county is not None:
        condition = condition & (Enterprise.county_code == wanted_county)

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            rows = enterprises_of(connection, condition)
            document = summary(
                connection, wanted, rows, default_data(), through=months_to_compare(wanted, today)
            )
            counties = _counties(connection)
        return {"document": document, "counties": counties}

    data = await asyncio.to_thread(read)
    document = data["document"]
    focus = next((e for e in document["enterprises"] if e["id"] == wanted_enterprise), None)
    months = focus["months"] if focus is not None else _city_months(document)
    chart = {
        "months": [m["month"] for m in months],
        "co2": [m["co2_t"] for m in months],
        "pollutants": [m["main_pollutants_t"] for m in months],
    }
    return render(
        request,
        "carbon.html",
        user,
        year=wanted,
        document=document,
        counties=data["counties"],
        synergy=synergy_words(language(request)),
        focus=focus,
        chart=chart,
        filters={"county": wanted_county, "enterprise": wanted_enterprise},
    )


def _city_months(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every shown enterprise's months added up."""
    out = []
    for index in range(12):
        co2 = [e["months"][index]["co2_t"] for e in document["enterprises"]]
        pol = [e["months"][index]["main_pollutants_t"] for e in document["enterprises"]]
        known_co2 = [v for v in co2 if v is not None]
        known_pol = [v for v in pol if v is not None]
        out.append(
            {
                "month": index + 1,
                "co2_t": round(sum(known_co2), 3) if known_co2 else None,
                "main_pollutants_t": round(sum(known_pol), 4) if known_pol else None,
            }
        )
    return out
