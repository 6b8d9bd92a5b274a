"""One generic, typed CRUD layer for registry entities over the JSON API.

A ``Resource`` says what is particular to an entity: its table and key, the
pydantic schemas of what is created, changed and shown, the query that keeps
a reader in scope, the list filters, the checks a change must pass and what
refuses a delete. ``mount`` turns it into the five routes every registry
entity has, with the same conventions for all:

* ``GET /things`` (filters, ``limit``, ``offset``; the list envelope) and
  ``GET /things/{key}``: for everyone logged in, within their scope; what is
  out of scope answers 404 as if it did not exist;
* ``POST``, ``PATCH`` and ``DELETE``: for the writer the router is given (city
  administrators with their CSRF token), each in one transaction with its
  audit entry (before and after, secrets masked, a changed secret recorded as
  changed, never in clear); a key taken meanwhile answers 409 ``conflict``;
  a delete that would harm data answers 409 with what still holds the row.

A new entity costs its schemas and one ``Resource``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from envwatch.alerts.queries import Viewer
from envwatch.audit.log import Actor, record
from envwatch.auth.sessions import SessionUser
from envwatch.store.schema import MAX_ID
from envwatch.web.errors import ApiError
from envwatch.web.people import api_user, peer_of

CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

Row = Any
"""A row of a resource's table as its scoped query returns it."""
View = dict[str, Any]
"""A row as the API shows it (JSON types)."""


def invalid(field_name: str, reason: str, reason_zh: str) -> ApiError:
    """A 422 naming the field, in the shape of the app's validation errors."""
    problem = {"field": field_name, "reason": reason, "reason_zh": reason_zh}
    return ApiError(422, "invalid_request", "the request has invalid fields", "请求中有无效字段",
                    fields=[problem])  # fmt: skip


def in_use(code: str, what: str, what_zh: str, holders: Mapping[str, int]) -> ApiError:
    """A 409: the row is still referred to; ``dependants`` counts by what."""
    held = {name: count for name, count in holders.items() if count}
    listed = ", ".join(f"{count} {name}" for name, count in held.items())
    return ApiError(409, code, f"{what} is still referred to ({listed}): nothing deleted",
                    f"{what_zh}仍被引用（{listed}），未删除", dependants=held)  # fmt: skip


def changes(body: BaseModel, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH sets; null only where the column may be empty."""
    values = body.model_dump(exclude_unset=True)
    for name, value in values.items():
        if value is None and name not in nullable:
            raise invalid(f"body.{name}", "may not be null", "不能为空")
    return values


def counts_by(
    connection: Connection, column: Any, ids: Sequence[object], where: Any = None
) -> dict[Any, int]:
    """How many rows hold each of ``ids`` in ``column``."""
    query = select(column, func.count()).where(column.in_(ids)).group_by(column)
    if where is not None:
        query = query.where(where)
    return {key: int(count) for key, count in connection.execute(query).all()}


def page(
    connection: Connection, query: Select[Any], order: Sequence[Any], limit: int, offset: int
) -> tuple[list[Row], int]:
    """One page of ``query`` in ``order`` and the total it holds."""
    total = connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = connection.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def envelope(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@dataclass(frozen=True, slots=True)
class ListFilter:
    """A query parameter of a resource's list: ``name`` typed by ``annotation``
    (``None`` when absent). Given, it keeps the rows that meet ``condition`` of
    its value, by default those whose ``column`` equals it."""

    name: str
    annotation: Any
    column: Any = None
    condition: Callable[[Any], ColumnElement[bool]] | None = None

    def of(self, value: Any) -> ColumnElement[bool]:
        if self.condition is not None:
            return self.condition(value)
        return self.column == value  # type: ignore[no-any-return]


def _no_check(*_: object) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Resource(Generic[CreateT, UpdateT]):
    """A registry entity as the API serves it."""

    name: str
    """Singular, in English: the audit entity, ``unknown_<name>``, route names."""
    name_zh: str
    collection: str
    """The path below the router's prefix: ``/outlets``."""
    table: Any
    key: Any
    """The key column (``Outlet.id``; ``MonitoringPoint.mn`` for a key the client gives)."""
    key_param: str
    key_type: Any
    """The path parameter's annotation (its bounds or pattern)."""
    public: type[BaseModel]
    create: type[CreateT]
    update: type[UpdateT]
    scoped: Callable[[Viewer], Select[Any]]
    """``select`` of the table's rows the viewer may see (joined as filters need)."""
    filters: Sequence[ListFilter] = ()
    where: Callable[[Mapping[str, Any]], list[ColumnElement[bool]]] | None = None
    """Conditions of the list's given filters all at once, instead of each filter's own."""
    list_doc: str = ""
    nullable: frozenset[str] = frozenset()
    """Fields a PATCH may set to null."""
    secrets: frozenset[str] = frozenset()
    """Fields the audit log never holds in clear."""
    views: Callable[[Connection, Viewer, list[Row]], list[View]] | None = None
    """Rows as shown; by default each row through ``public``."""
    row_values: Callable[[dict[str, Any]], dict[str, Any]] = dict
    """A body's fields as column values (fields of other tables left out)."""
    check_create: Callable[[Connection, CreateT], None] = _no_check
    check_update: Callable[[Connection, View, dict[str, Any]], None] = _no_check
    """Checks of a PATCH's values against the row as it was shown before."""
    after_write: Callable[[Connection, object, dict[str, Any]], None] = _no_check
    """Writes to other tables after an insert or update (the body's values)."""
    holders: Callable[[object], Mapping[str, ColumnElement[bool]]] | None = None
    """What may still refer to a row: a delete is refused while any holds it."""
    in_use_code: str = ""
    in_use_hint: tuple[str, str] | None = None
    cleanup: Callable[[Connection, object], None] = _no_check
    """Deletes of the row's own parts in other tables before the row goes."""

    def unknown(self, key: object) -> ApiError:
        return ApiError(404, f"unknown_{self.name}", f"no {self.name} {key}",
                        f"没有{self.name_zh}{key}，或您无权查看")  # fmt: skip

    def show(
        self, connection: Connection, viewer: Viewer, rows: list[Row], *, reveal: bool = False
    ) -> list[View]:
        """Rows as shown: secrets as null unless ``reveal`` (a city administrator
        who asked for them, audited)."""
        if self.views is not None:
            items = self.views(connection, viewer, rows)
        else:
            items = [self.public.model_validate(row).model_dump(mode="json") for row in rows]
        if reveal or not self.secrets:
            return items
        return [{**item, **{name: None for name in self.secrets if name in item}} for item in items]

    def one(
        self, connection: Connection, viewer: Viewer, key: object, *, reveal: bool = False
    ) -> View:
        """The row of ``key`` as shown, if the viewer may see it; 404 otherwise."""
        found = connection.execute(self.scoped(viewer).where(self.key == key)).first()
        if found is None:
            raise self.unknown(key)
        return self.show(connection, viewer, [found], reveal=reveal)[0]

    def conditions(self, values: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        given = {name: value for name, value in values.items() if value is not None}
        if self.where is not None:
            return self.where(given)
        return [f.of(given[f.name]) for f in self.filters if f.name in given]


def _engine(request: Request) -> Any:
    return request.app.state.database()


def _actor(request: Request, user: SessionUser) -> Actor:
    return Actor(user.username, user.role, peer_of(request))


def _masked(values: Mapping[str, Any] | None, secrets: frozenset[str]) -> dict[str, Any] | None:
    if values is None:
        return None
    return {name: "******" if name in secrets else value for name, value in values.items()}


Work = Callable[[Connection], tuple[object, View | None, View | None]]
"""A change in a transaction: (key, before, after) for the audit log."""


async def _change(
    request: Request, user: SessionUser, resource: Resource[Any, Any], action: str, work: Work
) -> View | None:
    """Run ``work`` and its audit entry in one transaction; what it left after."""

    def run() -> View | None:
        with _engine(request).begin() as connection:
            key, before, after = work(connection)
            record(connection, _actor(request, user), f"registry.{resource.name}.{action}",
                   resource.name, key, before=_masked(before, resource.secrets),
                   after=_masked(after, resource.secrets))  # fmt: skip
        return after

    try:
        return await asyncio.to_thread(run)
    except IntegrityError:
        # A check passed, then another change took the key first: nothing was stored.
        raise ApiError(409, "conflict", "the registry changed meanwhile: nothing stored, "
                       "try again", "名录已被他人同时修改，未保存，请重试") from None  # fmt: skip


def _signed(
    function: Callable[..., Any], name: str, doc: str, params: list[inspect.Parameter]
) -> Callable[..., Any]:
    """``function`` with the signature FastAPI reads its parameters from."""
    function.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    function.__name__ = name
    function.__doc__ = doc or None
    return function


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def mount(
    router: APIRouter, prefix: str, resource: Resource[Any, Any], writer: Callable[..., Any]
) -> None:
    """Add the resource's list, read, create, update and delete routes to ``router``."""
    plural = resource.collection.strip("/")
    path = prefix + resource.collection
    item_path = f"{path}/{{{resource.key_param}}}"
    reader = _param("user", Annotated[Viewer, Depends(api_user)])
    writes = _param("user", Annotated[SessionUser, Depends(writer)])
    request_param = _param("request", Request)
    key_param = _param(resource.key_param, resource.key_type)

    async def read_list(request: Request, user: Viewer, **query: Any) -> dict[str, Any]:
        limit, offset = query.pop("limit"), query.pop("offset")
        selected = resource.scoped(user).where(*resource.conditions(query))

        def read() -> dict[str, Any]:
            with _engine(request).connect() as connection:
                rows, total = page(connection, selected, [resource.key], limit, offset)
                items = resource.show(connection, user, rows)
            return envelope(items, total, limit, offset)

        return await asyncio.to_thread(read)

    router.add_api_route(path, _signed(read_list, f"get_{plural}", resource.list_doc, [
        request_param, reader,
        *(_param(f.name, f.annotation, None) for f in resource.filters),
        _param("limit", Limit, 50), _param("offset", Offset, 0),
    ]), methods=["GET"])  # fmt: skip

    async def read_one(request: Request, user: Viewer, **path_values: Any) -> View:
        key = path_values[resource.key_param]
        reveal = bool(path_values.get("reveal_secrets"))
        if reveal and not (isinstance(user, SessionUser) and user.role == "city_admin"):
            raise ApiError(403, "forbidden", "only city administrators see secrets such as "
                           "device passwords", "仅市局管理员可查看设备密码等保密字段")  # fmt: skip

        def read() -> View:
            if not reveal:
                with _engine(request).connect() as connection:
                    return resource.one(connection, user, key)
            assert isinstance(user, SessionUser)
            with _engine(request).begin() as connection:
                shown = resource.one(connection, user, key, reveal=True)
                record(connection, _actor(request, user),
                       f"registry.{resource.name}.reveal_secrets", resource.name, str(key),
                       after={"fields": sorted(resource.secrets)})  # fmt: skip
                return shown

        return await asyncio.to_thread(read)

    reveal_param = [_param("reveal_secrets", bool, False)] if resource.secrets else []
    router.add_api_route(item_path, _signed(
        read_one, f"get_{resource.name}",
        "Secrets (a device's PW) are null unless a city administrator asks with "
        "``reveal_secrets`` (audited)." if resource.secrets else "",
        [request_param, key_param, reader, *reveal_param],
    ), methods=["GET"])  # fmt: skip

    async def create(request: Request, user: SessionUser, body: BaseModel) -> View | None:
        def work(connection: Connection) -> tuple[object, None, View]:
            resource.check_create(connection, body)
            values = body.model_dump()
            key = connection.execute(
                insert(resource.table).values(**resource.row_values(values))
                .returning(resource.key)
            ).scalar_one()  # fmt: skip
            resource.after_write(connection, key, values)
            return key, None, resource.one(connection, user, key)

        return await _change(request, user, resource, "create", work)

    router.add_api_route(path, _signed(create, f"create_{resource.name}", "", [
        request_param, _param("body", resource.create), writes,
    ]), methods=["POST"], status_code=201)  # fmt: skip

    async def change(
        request: Request, user: SessionUser, body: BaseModel, **path_values: Any
    ) -> View | None:
        key = path_values[resource.key_param]
        values = changes(body, resource.nullable)

        def work(connection: Connection) -> tuple[object, View, View]:
            before = resource.one(connection, user, key, reveal=True)  # secrets: audit masks
            resource.check_update(connection, before, values)
            columns = resource.row_values(values)
            if columns:
                connection.execute(
                    update(resource.table).where(resource.key == key).values(**columns)
                )
            resource.after_write(connection, key, values)
            after = resource.one(connection, user, key)
            changed = {f"{name}_changed": True for name in resource.secrets
                       if name in values and values[name] != before.get(name)}  # fmt: skip
            return key, before, {**after, **changed}

        return await _change(request, user, resource, "update", work)

    router.add_api_route(item_path, _signed(change, f"update_{resource.name}", "", [
        request_param, key_param, _param("body", resource.update), writes,
    ]), methods=["PATCH"])  # fmt: skip

    holders = resource.holders
    if holders is None:
        return

    async def remove(request: Request, user: SessionUser, **path_values: Any) -> Response:
        key = path_values[resource.key_param]

        def work(connection: Connection) -> tuple[object, View, None]:
            before = resource.one(connection, user, key)
            held = {
                name: int(connection.execute(select(func.count()).where(condition)).scalar_one())
                for name, condition in holders(key).items()
            }
            if any(held.values()):
                error = in_use(resource.in_use_code, f"{resource.name} {key}",
                               f"该{resource.name_zh}", held)  # fmt: skip
                if resource.in_use_hint is not None:
                    error.body["hint"], error.body["hint_zh"] = resource.in_use_hint
                raise error
            resource.cleanup(connection, key)
            connection.execute(delete(resource.table).where(resource.key == key))
            return key, before, None

        await _change(request, user, resource, "delete", work)
        return Response(status_code=204)

    router.add_api_route(item_path, _signed(remove, f"delete_{resource.name}", "",
                                            [request_param, key_param, writes]),
                         methods=["DELETE"], status_code=204)  # fmt: skip
