"""Each API operation declared once, beside its view: its documentation and its wire format.

``@operation(...)`` (placed right under the route decorator) records an :class:`Operation`
on the view as ``view.openapi``; :mod:`server.api.openapi` collects them by walking
``app.url_map``. The same declaration is the wire format: a view returns plain data and
the decorator dumps a JSON body (a dict or list) through the marshmallow schema documented
for the status it answers. A JSON body for a status documented without a schema is a
programming error, so the document and what goes on the wire cannot disagree. Bodies that
are not JSON (``""`` of tus, 204s, :class:`flask.Response`) pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from marshmallow import Schema

View = Callable[..., Any]


@dataclass(frozen=True)
class Reply:
    """One documented response: what it means, its JSON body's schema, its headers."""

    description: str
    schema: type[Schema] | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """The OpenAPI operation of one view (one method of one route)."""

    operation_id: str
    summary: str
    responses: Mapping[int, Reply]
    # A JSON body's schema, or an OpenAPI ``content`` map for other bodies.
    request: type[Schema] | Mapping[str, Any] | None = None
    request_required: bool = True
    # Query and header parameters; path parameters come from the route (openapi.PATH_PARAMS).
    parameters: tuple[Mapping[str, Any], ...] = ()
    # Statuses answered with problem+json (401 is added for device=True).
    problems: tuple[int, ...] = ()
    # A device's bearer token is required.
    device: bool = False


def operation(
    *,
    operation_id: str,
    summary: str,
    responses: Mapping[int, Reply],
    request: type[Schema] | Mapping[str, Any] | None = None,
    request_required: bool = True,
    parameters: tuple[Mapping[str, Any], ...] = (),
    problems: tuple[int, ...] = (),
    device: bool = False,
) -> Callable[[View], View]:
    """Record the operation on the view and dump its JSON bodies through their schemas."""
    op = Operation(
        operation_id=operation_id,
        summary=summary,
        responses=responses,
        request=request,
        request_required=request_required,
        parameters=parameters,
        problems=problems,
        device=device,
    )
    dumpers = {status: r.schema() for status, r in responses.items() if r.schema is not None}

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return dump_reply(op, dumpers, view(*args, **kwargs))

        wrapper.openapi = op  # type: ignore[attr-defined]
        return wrapper

    return decorate


def dump_reply(op: Operation, dumpers: Mapping[int, Schema], rv: Any) -> Any:
    """The view's return value with its JSON body dumped through the documented schema."""
    body, rest = (rv[0], rv[1:]) if isinstance(rv, tuple) else (rv, ())
    if not isinstance(body, Mapping | list):
        return rv
    status = rest[0] if rest and isinstance(rest[0], int) else 200
    dumper = dumpers.get(status)
    if dumper is None:
        raise TypeError(f"{op.operation_id}: a JSON body for {status} has no documented schema")
    dumped = dumper.dump(body)
    return (dumped, *rest) if rest else dumped


def operation_of(view: View) -> Operation | None:
    """The operation recorded on a view function, if any."""
    return getattr(view, "openapi", None)
