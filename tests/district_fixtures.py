"""A small district for routing and scope tests: two townships, a street, their villages,
communities, grids and buildings, and units at several levels."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from workflows.district.places import address_key, child_path
from workflows.models import Case, Department, Place, Tier

# (code, name, level, parent code, address)
PLACES = (
    ("LJ", "临江区", "district", None, None),
    ("QS", "青山镇", "township", "LJ", None),
    ("QS-SM", "石门村", "village", "QS", None),
    ("QS-SM-G1", "石门村第一网格", "grid", "QS-SM", None),
    ("QS-SM-G1-B3", "石门村3组12号", "building", "QS-SM-G1", "临江区青山镇石门村3组12号"),
    ("BS", "白沙镇", "township", "LJ", None),
    ("BS-HT", "河头村", "village", "BS", None),
    ("BS-HT-G1", "河头村第一网格", "grid", "BS-HT", None),
    ("BS-HT-G1-B1", "河头村1组5号", "building", "BS-HT-G1", "临江区白沙镇河头村1组5号"),
    ("CD", "城东街道", "street", "LJ", None),
    ("CD-XF", "幸福社区", "community", "CD", None),
    ("CD-XF-G2", "幸福社区第二网格", "grid", "CD-XF", None),
    ("CD-XF-G2-B12", "幸福小区12栋", "building", "CD-XF-G2", "临江区城东街道幸福路8号幸福小区12栋"),
)

# (code, name, kind, place code or None for the district level, tier)
UNITS = (
    ("QS-JDTJ", "青山镇人民调解委员会", "JDTJ", "QS", Tier.STREET),
    ("QS-ZZ", "青山镇综治中心", "ZZ", "QS", Tier.STREET),
    ("QS-XZ", "青山镇人民政府", "XZ", "QS", Tier.STREET),
    ("QS-SM-SQTJ", "石门村人民调解委员会", "SQTJ", "QS-SM", Tier.COMMUNITY),
    ("BS-JDTJ", "白沙镇人民调解委员会", "JDTJ", "BS", Tier.STREET),
    ("BS-ZZ", "白沙镇综治中心", "ZZ", "BS", Tier.STREET),
    ("CD-JDTJ", "城东街道人民调解委员会", "JDTJ", "CD", Tier.STREET),
    ("CD-JD", "城东街道办事处", "JD", "CD", Tier.STREET),
    ("CD-GA", "城东派出所", "GA", "CD", Tier.STREET),
    ("LJ-RS", "临江区人社局", "RS", "LJ", Tier.DISTRICT),
)


@dataclass
class District:
    """Ids of the places and units built, by code."""

    places: dict[str, int] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)


def build_district(services) -> District:
    """Places and units above, committed (the seeded district-level departments stay)."""
    built = District()
    uow = services.new_uow()
    with uow:
        session = uow.session
        rows: dict[str, Place] = {}
        for code, name, level, parent, address in PLACES:
            place = Place(code=code, name=name, level=level, address=address,
                          address_key=address_key(address) if address else None,
                          parent_id=rows[parent].id if parent else None, path="", active=True)
            session.add(place)
            session.flush()
            place.path = child_path(rows[parent] if parent else None, place.id)
            rows[code] = place
        for code, name, kind, place_code, tier in UNITS:
            session.add(Department(code=code, name=name, kind=kind, tier=tier,
                                   place_id=rows[place_code].id, responsibilities=[]))
        session.flush()
        built.places = {code: place.id for code, place in rows.items()}
        built.paths = {code: place.path for code, place in rows.items()}
        built.units = {d.code: d.id for d in session.scalars(select(Department))}
        uow.commit()
    return built


def locate(services, case_no: str, district: District, place_code: str) -> None:
    """Put a registered case at a place (what intake does with a location)."""
    uow = services.new_uow()
    with uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).one()
        case.place_id = district.places[place_code]
        case.place_path = district.paths[place_code]
        uow.commit()
