"""Unit kinds by the short names people and other modelers use for them.

A process drawn elsewhere names an agency the way people say it (公安, 教育, 城管, 综治中心);
jiefen's units carry a kind code (GA, JY, CG, ZZ). Each kind carries its aliases here, so a lane
or a ``candidateGroups`` entry written either way reaches the unit of that kind nearest the case.
docs/bpmn-authoring.md prints this table."""

from __future__ import annotations

KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "GA": ("公安", "公安局", "公安分局", "派出所", "警方"),
    "SF": ("司法", "司法局", "司法所"),
    "XF": ("信访", "信访局"),
    "MZ": ("民政", "民政局"),
    "RS": ("人社", "人社局", "人力资源和社会保障局", "劳动保障"),
    "ZJ": ("住建", "住建局", "房屋征收部门"),
    "CG": ("城管", "城管局", "城管执法", "综合执法"),
    "SJ": ("市场监管", "市场监管局"),
    "WJ": ("卫健", "卫健委", "卫生健康"),
    "ZR": ("自然资源", "自然资源局", "规划"),
    "HJ": ("生态环境", "生态环境局", "环保"),
    "FY": ("法院", "人民法院"),
    "ZZ": ("综治中心", "综治", "矛盾纠纷调处中心", "调处中心"),
    "JD": ("街道", "街道办", "街道办事处"),
    "XZ": ("乡镇", "乡镇政府", "乡镇人民政府"),
    "SQ": ("社区", "居委会", "村委会"),
    "SQTJ": ("社区调委会", "村调委会"),
    "JDTJ": ("街道调委会", "乡镇调委会"),
    "JDLT": ("劳动争议调解中心",),
    "WY": ("物业", "物业公司"),
    "FL": ("妇联",),
    "GH": ("工会", "总工会"),
    "JR": ("金融监管", "银行"),
    "NY": ("农业农村", "农业农村局"),
    "JY": ("教育", "教育局"),
    "PG": ("评估专家委员会",),
    "WG": ("网格", "网格工作站"),
}


def kind_of_alias(name: str) -> str | None:
    """The kind a short name stands for (None when it is no alias)."""
    return _BY_ALIAS.get(name.strip())


_BY_ALIAS = {alias: kind for kind, aliases in KIND_ALIASES.items() for alias in aliases}
