"""Writes the demo district's directory files (data/places.csv, units.csv, users.csv) once.

The CSV files are the data: ``jiefen demo`` loads them through the directory imports, and a real
district may start by editing them. This script only saved typing them; run it again
(``python -m workflows.demo.make_district_files``) only to regenerate them from scratch.

临江区 (a fictional district, code 990102): seven streets and five townships, their communities
and villages, four grids per urban community and three per village or small-town community,
buildings and standard addresses under the grids, and the units and users that receive work.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from workflows.people.departments import ALL_DEPARTMENTS

DATA = Path(__file__).resolve().parent / "data"
DISTRICT_CODE, DISTRICT = "990102", "临江区"
CN = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Street:
    """A street (街道) or a township (镇, 乡) with its communities and villages."""

    number: str
    name: str
    pinyin: str
    short: str
    communities: tuple[str, ...]
    police: bool = True

    @property
    def code(self) -> str:
        return DISTRICT_CODE + self.number

    @property
    def township(self) -> bool:
        return not self.name.endswith("街道")


STREETS = (
    Street("001", "城东街道", "chengdong", "城东",
           ("城东社区", "朝阳社区", "文化社区", "新华社区", "建设社区", "和平社区")),
    Street("002", "城西街道", "chengxi", "城西",
           ("城西社区", "西苑社区", "枫林社区", "桂花社区", "金桥社区", "康乐社区")),
    Street("003", "东湖街道", "donghu", "东湖",
           ("锦苑社区", "湖滨社区", "柳岸社区", "春晖社区", "翠竹社区", "东湖花园社区")),
    Street("004", "西城街道", "xicheng", "西城",
           ("锦绣家园社区", "西城社区", "紫荆社区", "银杏社区", "丽景社区", "新城社区")),
    Street("005", "东关街道", "dongguan", "东关",
           ("东关社区", "南门社区", "北街社区", "古城社区", "府前社区", "河西社区")),
    Street("006", "滨江街道", "binjiang", "滨江",
           ("滨江社区", "江湾社区", "科创园社区", "望江社区", "观澜社区", "临江花园社区")),
    # a new area without a police station of its own: the district police serve it
    Street("007", "新港街道", "xingang", "新港",
           ("新港社区", "港城社区", "产业园社区", "海韵社区", "渔港社区", "蓝湾社区"), police=False),
    Street("100", "青山镇", "qingshan", "青山",
           ("青山社区", "石门村", "青山村", "上塘村", "茶园村", "竹林村")),
    Street("101", "白沙镇", "baisha", "白沙",
           ("白沙社区", "白沙村", "沙湾村", "河口村", "柳树村", "新塘村")),
    Street("102", "石桥镇", "shiqiao", "石桥", ("石桥社区", "石桥村", "大桥村", "马家村", "桃源村")),
    Street("103", "龙潭镇", "longtan", "龙潭", ("龙潭社区", "龙潭村", "龙泉村", "黄土村", "清水村")),
    Street("200", "云岭乡", "yunling", "云岭", ("云岭村", "高山村", "林场村", "岭下村")),
)
# the estate (小区) of a community's buildings and how its buildings are numbered
ESTATES = {"锦苑社区": ("锦苑小区", "栋"), "锦绣家园社区": ("锦绣家园", "栋"),
           "东湖花园社区": ("东湖花园", "栋"), "东关社区": ("东关片区", "号院"),
           "科创园社区": ("滨江科创园", "栋"), "产业园社区": ("新港产业园", "号厂房"),
           "临江花园社区": ("临江花园", "栋")}
# the people the sample cases C01-C06 name: (unit code, role) -> (username, display name)
SAMPLE_USERS = {
    ("ZZ", "intake_clerk"): ("clerk", "王敏"),
    ("ZZ", "triage_officer"): ("triage", "李强"),
    ("ZZ", "supervisor"): ("supervisor", "孙丽"),
    ("ZZ", "leader"): ("leader", "周建国"),
    ("RS", "dept_handler"): ("handler", "赵刚"),
    ("RS", "mediator"): ("mediator_rs", "钱进"),
    ("ZJ", "dept_handler"): ("handler_zj", "冯伟"),
    ("SJ", "dept_handler"): ("handler_sj", "褚红"),
    ("SF", "dept_handler"): ("handler_sf", "卫东"),
    ("PG", "dept_handler"): ("handler_pg", "蒋平"),
    ("XF", "dept_handler"): ("handler_xf", "沈娟"),
    ("990102003-JDTJ", "dept_handler"): ("handler_jdtj", "韩梅"),
    ("990102003-JDTJ", "mediator"): ("mediator", "张秀兰"),
    ("990102006-JDLT", "dept_handler"): ("handler_jdlt", "杨帆"),
    ("990102006-JDLT", "mediator"): ("mediator_jdlt", "朱琳"),
    ("990102005-JD", "dept_handler"): ("handler_jd", "秦刚"),
    ("990102003001-WY", "dept_handler"): ("handler_wy", "尤明"),
}
ROLE_ZH = {"intake_clerk": "受理员", "triage_officer": "分流研判员", "mediator": "调解员",
           "dept_handler": "承办人", "supervisor": "督办员", "leader": "领导",
           "process_owner": "流程管理员", "auditor": "审计员", "admin": "系统管理员"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ("建华", "秀英", "志强", "丽娟", "海燕", "国庆", "春梅", "文博", "晓东", "雪梅", "立新",
         "玉兰", "振华", "桂芳", "明辉", "小红", "永刚", "淑珍", "德明", "佳怡", "子涵", "浩然",
         "静怡", "宇航", "婷婷", "俊杰", "欣怡", "伟东", "红霞", "金凤", "长青", "慧敏")


def _cn(number: int) -> str:
    if number <= 10:
        return CN[number]
    return ("十" if number < 20 else CN[number // 10] + "十") + (CN[number % 10] if number % 10
                                                                 else "")


@dataclass
class Files:
    """The rows of the three files."""

    places: list[list[str]]
    units: list[list[str]]
    users: list[list[str]]

    def place(self, code: str, name: str, level: str, parent: str, address: str = "") -> None:
        self.places.append([code, name, level, parent, address])

    def unit(self, code: str, name: str, kind: str, place: str) -> None:
        self.units.append([code, name, kind, place])


class People:
    """Users with made-up but distinct Chinese names and made-up mobiles."""

    def __init__(self, files: Files):
        self.files, self.count = files, 0

    def add(self, username: str, roles: tuple[str, ...], unit: str | None) -> None:
        known = SAMPLE_USERS.get((unit or "", roles[0])) if len(roles) == 1 else None
        self.count += 1
        if known is not None:
            username, name = known
        else:
            name = SURNAMES[self.count % len(SURNAMES)] + GIVEN[self.count // len(SURNAMES)
                                                               % len(GIVEN)]
        mobile = f"139{self.count:08d}" if unit else ""
        self.files.users.append([username, name, ";".join(ROLE_ZH[r] for r in roles),
                                 unit or "", mobile])


def build() -> Files:
    """The rows of places.csv, units.csv and users.csv."""
    files = Files([], [], [])
    people = People(files)
    files.place(DISTRICT_CODE, DISTRICT, "区", "")
    _district_units(files, people)
    for street in STREETS:
        files.place(street.code, street.name, "乡镇" if street.township else "街道", DISTRICT_CODE)
        _street_units(files, people, street)
        for index, name in enumerate(street.communities, start=1):
            _community(files, people, street, index, name)
    for username, role in (("owner", "process_owner"), ("auditor", "auditor"), ("admin", "admin")):
        files.users.append([username, {"owner": "吴涛（流程管理员）", "auditor": "郑洁（审计员）",
                                       "admin": "系统管理员"}[username], ROLE_ZH[role], "", ""])
    return files


def _district_units(files: Files, people: People) -> None:
    for seed in ALL_DEPARTMENTS:
        files.unit(seed.code, seed.name, seed.code, DISTRICT_CODE)
        lower = seed.code.lower()
        if seed.code == "ZZ":
            for role in ("intake_clerk", "triage_officer", "supervisor", "leader"):
                people.add("", (role,), "ZZ")
            people.add("handler_zz", ("dept_handler",), "ZZ")
        elif seed.code == "RS":
            people.add("", ("dept_handler",), "RS")
            people.add("", ("mediator",), "RS")
        elif seed.tier == "district":
            people.add(f"handler_{lower}", ("dept_handler",), seed.code)
        else:   # the district-level stand-in of a street or community kind (unlocated cases)
            mediation = seed.code in ("JDTJ", "SQTJ", "JDLT")
            people.add(f"qu_{lower}", ("dept_handler", "mediator") if mediation else
                       ("dept_handler",), seed.code)


def _street_units(files: Files, people: People, street: Street) -> None:
    code, p = street.code, street.pinyin
    files.unit(f"{code}-ZZ", f"{street.name}综治中心", "ZZ", code)
    people.add(f"{p}_sl", ("intake_clerk", "triage_officer"), f"{code}-ZZ")
    people.add(f"{p}_db", ("supervisor",), f"{code}-ZZ")
    people.add(f"{p}_ld", ("leader",), f"{code}-ZZ")
    people.add(f"{p}_zz", ("dept_handler",), f"{code}-ZZ")
    for kind, name in (("JDTJ", "人民调解委员会"), ("JDLT", "劳动争议调解中心")):
        unit = f"{code}-{kind}"
        files.unit(unit, street.name + name, kind, code)
        if (unit, "dept_handler") in SAMPLE_USERS:
            people.add("", ("dept_handler",), unit)
            people.add("", ("mediator",), unit)
        else:
            people.add(f"{p}_{kind.lower()}", ("dept_handler", "mediator"), unit)
    kind = "XZ" if street.township else "JD"
    files.unit(f"{code}-{kind}", street.name + ("人民政府" if street.township else "办事处"),
               kind, code)
    people.add(f"{p}_{kind.lower()}", ("dept_handler",), f"{code}-{kind}")
    if street.police:
        files.unit(f"{code}-GA", f"{street.short}派出所", "GA", code)
        people.add(f"{p}_ga", ("dept_handler",), f"{code}-GA")


def _community(files: Files, people: People, street: Street, index: int, name: str) -> None:
    code = f"{street.code}{index:03d}" if name.endswith("社区") else \
        f"{street.code}{200 + index:03d}"
    village = name.endswith("村")
    files.place(code, name, "村" if village else "社区", street.code)
    slug = f"{street.pinyin}{index:02d}"
    files.unit(f"{code}-SQ", name + ("村民委员会" if village else "居民委员会"), "SQ", code)
    people.add(f"{slug}_sq", ("intake_clerk", "dept_handler"), f"{code}-SQ")
    files.unit(f"{code}-SQTJ", f"{name}人民调解委员会", "SQTJ", code)
    people.add(f"{slug}_tj", ("dept_handler", "mediator"), f"{code}-SQTJ")
    estate, suffix = ESTATES.get(name, (name.removesuffix("社区") + "小区", "栋"))
    if not village and not street.township and estate != "东关片区":
        files.unit(f"{code}-WY", f"{estate}物业服务中心", "WY", code)
        people.add(f"{slug}_wy", ("dept_handler",), f"{code}-WY")
    grids = 4 if not (village or street.township) else 3
    for number in range(1, grids + 1):
        grid = f"{code}W{number:02d}"
        files.place(grid, f"{name}第{_cn(number)}网格", "网格", code)
        if village:
            files.place(f"{grid}B01", f"{name}{_cn(number)}组", "楼栋", grid,
                        f"{DISTRICT}{street.name}{name}{_cn(number)}组")
            continue
        for offset in (1, 2):
            house = 2 * number - 2 + offset
            label = f"{estate}{house}{suffix}"
            files.place(f"{grid}B{offset:02d}", label, "楼栋", grid,
                        f"{DISTRICT}{street.name}{label}")


def write(files: Files, folder: Path = DATA) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
            ("places.csv", ["编码", "名称", "层级", "上级编码", "地址"], files.places),
            ("units.csv", ["编码", "名称", "类型", "所在地编码"], files.units),
            ("users.csv", ["用户名", "姓名", "角色", "单位编码", "手机"], files.users)):
        with (folder / name).open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


if __name__ == "__main__":
    write(build())
