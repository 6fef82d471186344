"""The district's directory as plain data: every place and every unit with the names of its path.

``jiefen places list --json`` and ``jiefen units list --json`` print these rows; the admin pages
may use them too. ``names`` run from the root of the place tree down to the place itself.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Department, Place, path_ids
from workflows.runtime.unit_of_work import UnitOfWork


def _tree(session: Session) -> tuple[dict[int, tuple[str, str, str]], dict[int, str]]:
    """(code, name, path) of every place by id, and its name by id (one query)."""
    rows = session.execute(select(Place.id, Place.code, Place.name, Place.path))
    places = {ident: (code, name, path) for ident, code, name, path in rows}
    return places, {ident: name for ident, (_code, name, _path) in places.items()}


def list_places(uow: UnitOfWork) -> list[dict]:
    """Every place, by path (parents before children): ``code``, ``name``, ``level``,
    ``parent_code``, ``names`` (root first), ``address`` (buildings), ``active``."""
    with uow:
        session = uow.session
        places, names = _tree(session)
        out = []
        for place in session.scalars(select(Place).order_by(Place.path, Place.id)):
            parent = places.get(place.parent_id) if place.parent_id else None
            out.append({"code": place.code, "name": place.name, "level": place.level,
                        "parent_code": parent[0] if parent else None,
                        "names": [names[i] for i in path_ids(place.path) if i in names],
                        "address": place.address, "active": place.active})
        return out


def list_units(uow: UnitOfWork) -> list[dict]:
    """Every unit, by code: ``code``, ``name``, ``kind``, ``tier``, ``place_code`` (None: serves
    the whole deployment), ``names`` of its place's path, ``active``."""
    with uow:
        session = uow.session
        places, names = _tree(session)
        out = []
        for unit in session.scalars(select(Department).order_by(Department.code)):
            place = places.get(unit.place_id) if unit.place_id else None
            out.append({"code": unit.code, "name": unit.name, "kind": unit.kind,
                        "tier": unit.tier, "place_code": place[0] if place else None,
                        "names": [names[i] for i in path_ids(place[2]) if i in names]
                        if place else [], "active": unit.active})
        return out
