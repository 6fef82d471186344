"""The intake assistant on text alone: categories for typical descriptions (written for this
test, not in the labelled set), urgency flags, points of dispute with Chinese numerals, the
exported model scoring as scikit-learn does, and the held-out floor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflows.assistant import training
from workflows.assistant.model import features, from_bytes, shipped
from workflows.assistant.numerals import to_decimal
from workflows.assistant.points import extract
from workflows.assistant.suggest import suggest_text
from workflows.models import Category

TYPICAL = [
    ("labour_collective", "临江大道一处工地二十多名钢筋工被欠了四个月工资，包工头电话打不通"),
    ("family", "我爸妈年纪大了，弟弟不肯出赡养费，也不让老人住他家"),
    ("noise", "小区旁边的工地每天半夜打桩施工，吵得整栋楼睡不着"),
    ("land_contract", "我家的承包地流转给合作社种葡萄，今年的流转租金一直没付"),
    ("expropriation", "征收办给我家的评估价太低，安置房两年了还没交付，过渡费也停了"),
    ("petition", "区信访局转来信访事项：信访人对低保资格被取消不服，多次信访"),
    ("neighbour", "楼上住户卫生间漏水，把我家天花板泡坏了，对方不肯修"),
    ("labour", "我在一家饭店上班，老板欠我两个月工资八千元不给"),
    ("public_order", "有人从高层往楼下扔酒瓶，差点砸到小孩"),
    ("property_collective", "小区三部电梯经常困人，全楼两百多户要求用维修资金更换电梯"),
]


@pytest.mark.parametrize(("code", "text"), TYPICAL)
def test_typical_descriptions_get_their_category_first(code, text):
    found = suggest_text(text)
    assert found.best == code, found.categories[:3]


def test_the_answer_lists_at_least_three_routing_categories_best_first():
    answer = suggest_text("物业公司多收了我家两年的物业费，还停了我家门禁卡").as_json()
    assert set(answer) >= {"categories", "flags", "points"}
    scores = [c["score"] for c in answer["categories"]]
    assert len(scores) >= 3 and scores == sorted(scores, reverse=True)
    assert {c["code"] for c in answer["categories"]} <= {str(c) for c in Category}
    assert answer["categories"][0]["code"] == "property"
    assert answer["flags"] == [] and answer["urgency"] == "general"


@pytest.mark.parametrize(("text", "flag", "word"), [
    ("包工头不给钱，工人扬言要去区政府讨说法", "threat", "扬言"),
    ("有个工人爬上塔吊说拿不到钱就跳楼", "self_harm", "跳楼"),
    ("业主们在售楼处聚集，拉横幅要求交房", "gathering", "聚集"),
    ("村民说征收款再不到位就去堵路", "road_block", "堵路"),
    ("两个摊主打起来了，一人被持刀划伤", "violence", "持刀"),
])
def test_urgent_words_raise_their_flag_and_the_urgency_hint(text, flag, word):
    found = suggest_text(text).as_json()
    assert {"code": flag, "words": [word]} in [
        {"code": f["code"], "words": [w for w in f["words"] if w == word]} for f in found["flags"]]
    assert found["urgency"] == "urgent"


def test_wage_arrears_are_a_flag_only_at_scale_and_negations_or_lookalikes_are_not():
    many = suggest_text("三十二名工人的工资一直没有发，负责人躲着不见").as_json()["flags"]
    assert [f["code"] for f in many] == ["mass_wage_arrears"]
    assert "32人" in many[0]["words"]
    assert suggest_text("两名工人被拖欠工资三千元").flags == []
    assert suggest_text("他说话很冲，但没有扬言做什么").flags == []
    assert suggest_text("每天深夜有改装摩托车炸街，吵得睡不着").flags == []


@pytest.mark.parametrize(("text", "yuan"), [
    ("侵占维修资金38.6万元", "386000.00"), ("拖欠工资共计12600元", "12600.00"),
    ("彩礼十八万", "180000.00"), ("借了他一万二，一直没还", "12000.00"),
    ("工程款二十多万", "200000.00"), ("押金3,500元", "3500.00"),
    ("装修花了两千五百元", "2500.00"), ("欠款一万二千元", "12000.00"),
    ("赔偿1.2亿", "120000000.00"), ("每月1500元的赡养费，已欠9000元", "9000.00"),
])
def test_amounts_in_digits_and_chinese_numerals_become_yuan(text, yuan):
    assert extract(text).as_json()["amount"] == yuan


def test_a_rate_is_listed_but_is_not_the_amount_in_dispute():
    points = extract("月薪4200元，公司拖欠三个月工资").as_json()
    assert points["amount"] is None
    assert points["amounts"] == [{"text": "4200元", "yuan": "4200.00", "rate": True}]


def test_dates_periods_people_and_organisations():
    points = extract("2025年3月15日起临江宏达建筑劳务有限公司拖欠三十多名工人三个月工资，"
                     "4月2日又说半年后再结，我在产业园一家电子公司也干过").as_json()
    assert points["dates"][:2] == [{"text": "2025年3月15日", "iso": "2025-03-15"},
                                   {"text": "4月2日", "iso": None}]
    assert points["periods"] == ["三个月", "半年"]
    assert points["people"] == 30
    assert points["organisations"] == ["临江宏达建筑劳务有限公司", "电子公司"]
    bare = extract("公司突然辞退我，2024年入职").as_json()
    assert bare["organisations"] == [] and bare["dates"] == [{"text": "2024年", "iso": "2024"}]


@pytest.mark.parametrize(("text", "value"), [
    ("三十八", 38), ("一百零五", 105), ("两千五", 2500), ("一万二", 12000), ("十", 10),
    ("二十六", 26), ("三百万", 3_000_000), ("38.6万", Decimal("386000.0")), ("12,600", 12600),
])
def test_chinese_numerals(text, value):
    assert to_decimal(text) == Decimal(value)


def test_the_exported_model_scores_as_scikit_learn_does():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    samples = [s for s in training.read_labelled() if s[0] in ("family", "labour", "noise")]
    model = training.train(samples)
    vectorizer = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True)
    matrix = vectorizer.fit_transform([features(t) for _, t in samples])
    classifier = LogisticRegression(C=training.C, max_iter=5000, random_state=training.SEED)
    classifier.fit(matrix, [c for c, _ in samples])
    text = "老板拖欠我三个月工资，晚上楼下还很吵"
    expected = dict(zip(classifier.classes_, classifier.predict_proba(
        vectorizer.transform([features(text)]))[0], strict=True))
    for code, score in model.scores(text):
        assert score == pytest.approx(expected[code], abs=1e-3)
    assert from_bytes(model.to_bytes()).sha256 == model.sha256     # a stable file


def test_held_out_top3_stays_above_a_floor():
    """Deterministic (seeded split and training); the figures themselves are printed by
    benchmarks/assistant_accuracy.py."""
    figures = training.held_out(training.read_labelled())
    assert figures.count >= 13 * 8
    assert figures.top3 >= 0.9 and figures.top1 >= 0.75


def test_the_shipped_model_knows_every_category_and_is_loaded_once():
    model = shipped()
    assert set(model.classes) == {str(c) for c in Category}
    assert shipped() is model
    assert model.meta["samples"] >= 30 * len(Category)
    counts: dict[str, int] = {}
    for code, _ in training.read_labelled():
        counts[code] = counts.get(code, 0) + 1
    assert min(counts.values()) >= 30 and set(counts) == set(model.classes)
