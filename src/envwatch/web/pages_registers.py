"""The bottom-line registers' page (``/registers``): one tab per register
(hazardous-waste units and manifests, medical institutions, chemical parks,
chemical and acid-using enterprises, heavy-metal enterprises, contaminated
plots), listed and filtered in the user's scope through the same resources
as the API (``web/crud.py``), the entries drawn on the county map
(``mapsvg``) and, for hazardous waste, last year's check findings.

``register_layer`` is the dashboard map's register layer: every entry in the
user's scope with a place (its own, else its enterprise's)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, func, select

from envwatch.alerts.scope import CITY_ROLES, Viewer
from envwatch.hj212.codes import now_cst
from envwatch.registry.hazardous_waste import RULE_NAMES_ZH
from envwatch.registry.register_entries import IMPORTS, columns_of
from envwatch.registry.registers import REGISTERS, vocabulary
from envwatch.registry.waste_checks import findings_for
from envwatch.store.schema import ChemicalPark, County, Enterprise
from envwatch.web.api_bottom_line import BY_KIND
from envwatch.web.api_registers import PLOT_STATUSES, PLOTS
from envwatch.web.crud import Resource, page
from envwatch.web.i18n import N_, language
from envwatch.web.mapsvg import county_map, county_projection, rings_of
from envwatch.web.people import current_user
from envwatch.web.rendering import database, render

router = APIRouter()
PAGE_SIZE = 100
TABS: dict[str, Resource[Any, Any]] = {**BY_KIND, "contaminated_plot": PLOTS}
TAB_WORDS = {
    "hazardous_waste_unit": N_("rg_tab_hazardous_waste_unit"),
    "waste_transfer": N_("rg_tab_waste_transfer"),
    "medical_institution": N_("rg_tab_medical_institution"),
    "chemical_park": N_("rg_tab_chemical_park"),
    "chemical_enterprise": N_("rg_tab_chemical_enterprise"),
    "heavy_metal_enterprise": N_("rg_tab_heavy_metal_enterprise"),
    "contaminated_plot": N_("rg_tab_contaminated_plot"),
}
# The columns of each tab: (field, msgid).
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "hazardous_waste_unit": (
        ("name", N_("rg_name")), ("role", N_("rg_role")), ("county_code", N_("rg_county")),
        ("licence_no", N_("rg_licence_no")), ("licensed_categories", N_("rg_licensed")),
        ("licensed_capacity_t", N_("rg_capacity")), ("declared", N_("rg_declared")),
    ),
    "waste_transfer": (
        ("manifest_no", N_("rg_manifest_no")), ("producer", N_("rg_producer")),
        ("receiver_credit_code", N_("rg_receiver")), ("hw_code", N_("rg_hw_code")),
        ("quantity_t", N_("rg_quantity")), ("transferred_on", N_("rg_transferred_on")),
        ("transport", N_("rg_transport")),
    ),
    "medical_institution": (
        ("name", N_("rg_name")), ("county_code", N_("rg_county")), ("grade", N_("rg_grade")),
        ("beds", N_("rg_beds")), ("has_wastewater_facility", N_("rg_wastewater_facility")),
        ("disinfection", N_("rg_disinfection")), ("online_monitoring", N_("rg_online")),
        ("waste_unit", N_("rg_waste_unit")), ("waste_contract_until", N_("rg_contract_until")),
    ),
    "chemical_park": (
        ("name", N_("rg_name")), ("county_code", N_("rg_county")), ("level", N_("rg_level")),
        ("area_km2", N_("rg_area")),
    ),
    "chemical_enterprise": (
        ("enterprise", N_("rg_enterprise")), ("county_code", N_("rg_county")),
        ("kind", N_("rg_kind")), ("park_id", N_("rg_park")), ("acids", N_("rg_acids")),
    ),
    "heavy_metal_enterprise": (
        ("enterprise", N_("rg_enterprise")), ("county_code", N_("rg_county")),
        ("metals", N_("rg_metals")), ("industry", N_("rg_industry")),
        ("key_supervision", N_("rg_key_supervision")),
    ),
    "contaminated_plot": (
        ("name", N_("rg_name")), ("county_code", N_("rg_county")),
        ("former_use", N_("rg_former_use")), ("status", N_("rg_status")),
        ("area_m2", N_("rg_area_m2")),
    ),
}  # fmt: skip
# The one kind-specific filter of a tab: (query name, its values).
CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "hazardous_waste_unit": ("role", ("producer", "disposer")),
    "chemical_enterprise": ("kind", ("chemical", "acid_using")),
    "heavy_metal_enterprise": ("metal", tuple(vocabulary().heavy_metals)),
    "contaminated_plot": ("status", tuple(PLOT_STATUSES)),
}
FILTER_WORDS = (N_("rg_filter_role"), N_("rg_filter_kind"), N_("rg_filter_metal"),
                N_("rg_filter_status"))  # fmt: skip
"""The msgids of the tabs' own filters (``_("rg_filter_" ~ name)`` in the page)."""
KIND_CLASSES = {kind: kind.replace("_", "-") for kind in REGISTERS}


def _names(lang: str) -> dict[str, str]:
    """Vocabulary codes as the page shows them (Chinese names; English codes)."""
    if lang == "en":
        return {}
    words = vocabulary()
    return {**words.medical.grades, **words.medical.disinfection, **words.chemical.kinds,
            **words.chemical.park_levels, **words.chemical.acids, **words.heavy_metals,
            **PLOT_STATUSES, "producer": "产生单位", "disposer": "经营单位"}  # fmt: skip


def register_layer(connection: Connection, user: Viewer) -> list[dict[str, Any]]:
    """Every register entry in ``user``'s scope with a place, as dots on the
    county map (its own place, else its enterprise's); a park's boundary as a path."""
    projection = county_projection()
    dots: list[dict[str, Any]] = []
    for kind, register in REGISTERS.items():
        if kind == "enterprise":
            continue
        table = register.table
        own = hasattr(table, "longitude")
        query = register.entries(user)
        lon: Any
        lat: Any
        if own and register.enterprise is not None and not register.via_enterprise:
            query = query.outerjoin(Enterprise, Enterprise.id == register.enterprise)
            lon = func.coalesce(table.longitude, Enterprise.longitude)
            lat = func.coalesce(table.latitude, Enterprise.latitude)
        elif own:
            lon, lat = table.longitude, table.latitude
        else:
            lon, lat = Enterprise.longitude, Enterprise.latitude
        extra = [ChemicalPark.boundary] if kind == "chemical_park" else []
        query = query.add_columns(lon.label("lon"), lat.label("lat"), *extra)
        for row in connection.execute(query.order_by(register.key)):
            if row.lon is None or row.lat is None:
                continue
            boundary = getattr(row, "boundary", None)
            dots.append({
                "kind": kind, "class": KIND_CLASSES[kind], "id": row.id, "name": row.name,
                "xy": projection.xy(row.lon, row.lat),
                "path": projection.path(rings_of({"type": "Polygon", "coordinates": [boundary]}))
                if boundary else None,
            })  # fmt: skip
    return dots


def _text(value: str | None, limit: int) -> str | None:
    value = "".join(ch for ch in (value or "") if ch >= " ").strip()
    return value[:limit] or None


@router.get("/registers", response_class=HTMLResponse, response_model=None)
async def registers_page(
    request: Request,
    *,
    kind: str | None = None,
    county: str | None = None,
    q: str | None = None,
    choice: str | None = None,
    offset: int = 0,
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    tab = kind if kind in TABS else "hazardous_waste_unit"
    resource = TABS[tab]
    filters: dict[str, Any] = {}
    county_code = county if county and county.isdigit() and len(county) == 6 else None
    if county_code:
        filters["county"] = county_code
    search = _text(q, 100)
    if search and tab != "waste_transfer":
        filters["q"] = search
    chosen = None
    if tab in CHOICES and choice in CHOICES[tab][1]:
        chosen = choice
        filters[CHOICES[tab][0]] = choice
    start = min(max(0, offset), 2**31 - 1)
    lang = language(request)

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            conditions = resource.conditions(filters)
            if tab == "contaminated_plot" and county_code:  # the plots' API has no county filter
                conditions.append(resource.table.county_code == county_code)
            selected = resource.scoped(user).where(*conditions)
            rows, total = page(connection, selected, [resource.key], PAGE_SIZE, start)
            items = resource.show(connection, user, rows)
            names = dict(connection.execute(
                select(County.code, County.name_zh).order_by(County.code)).all())  # fmt: skip
            layer = [dot for dot in register_layer(connection, user) if dot["kind"] == tab]
            findings = []
            if tab in ("hazardous_waste_unit", "waste_transfer"):
                year = now_cst().date().year - 1
                findings = [{**f.as_json(), "unit": unit.name, "county_code": unit.county_code}
                            for f, unit in findings_for(connection, user, year,
                                                        now_cst().date())]  # fmt: skip
        return {"items": items, "total": total, "names": names, "layer": layer,
                "findings": findings}  # fmt: skip

    data = await asyncio.to_thread(read)
    visible = data["names"]
    if user.role not in CITY_ROLES:
        visible = {code: name for code, name in visible.items() if code in user.counties}
    shown = [dot for dot in data["layer"]
             if {item["id"] for item in data["items"]} & {dot["id"]}]  # fmt: skip
    areas, height = county_map()
    form = {"kind": tab, "county": county_code or "", "q": search or "", "choice": chosen or ""}
    query = urlencode({key: value for key, value in form.items() if value})
    return render(
        request, "registers.html", user, tab=tab, tabs=TAB_WORDS, columns=COLUMNS[tab],
        items=data["items"], total=data["total"], offset=start, page_size=PAGE_SIZE,
        query=query, form=form, choices=CHOICES.get(tab), county_names=data["names"],
        county_choices=visible, names=_names(lang), areas=areas, height=height, dots=shown,
        findings=data["findings"], rule_names=RULE_NAMES_ZH if lang == "zh" else {},
        import_columns=columns_of(tab) if tab in IMPORTS else [],
        import_href=f"/api/v1/registry{resource.collection}/import" if tab in IMPORTS else "",
        is_admin=user.role == "city_admin",
    )  # fmt: skip
