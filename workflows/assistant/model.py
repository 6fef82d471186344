"""The category classifier at suggestion time: a linear model read from a JSON file.

Training (``training.py``) uses scikit-learn; suggesting needs only the exported weights, so a
web worker never imports scikit-learn. Features are jieba words and Chinese character pairs,
weighted like scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` (1 + log count, times the
term's idf, scaled to unit length); the scores are the softmax of the linear model.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows.assistant.tokens import words

SHIPPED = Path(__file__).with_name("model.json.gz")
FORMAT = 1
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


def features(text: str) -> tuple[str, ...]:
    """Words of the text, then its pairs of adjacent Chinese characters (marked with ``#``)."""
    pairs = [f"#{run[i:i + 2]}" for run in _HAN_RUN.findall(text) for i in range(len(run) - 1)]
    return (*words(text), *pairs)


@dataclass(frozen=True)
class LinearModel:
    """Classes, and per feature its idf and one weight per class."""

    classes: tuple[str, ...]
    terms: dict[str, list[float]]      # feature -> [idf, weight of class 0, 1, ...]
    intercept: tuple[float, ...]
    meta: dict[str, Any]               # how it was trained and how well it did
    sha256: str

    def scores(self, text: str, found: tuple[str, ...] | None = None
               ) -> list[tuple[str, float]]:
        """Every class with its probability, best first (ties by code); ``found``: the text's
        features when the caller has them already."""
        counts = Counter(f for f in (found or features(text)) if f in self.terms)
        values = {f: (1 + math.log(n)) * self.terms[f][0] for f, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        logits = list(self.intercept)
        for feature, value in values.items():
            weights = self.terms[feature]
            for k in range(len(logits)):
                logits[k] += value / norm * weights[k + 1]
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        ranked = sorted(zip(self.classes, (e / total for e in exps)), key=lambda p: (-p[1], p[0]))
        return [(code, prob) for code, prob in ranked]

    def to_bytes(self) -> bytes:
        """The model as gzipped JSON (what the file and the database hold)."""
        body = {"format": FORMAT, "classes": list(self.classes), "intercept": list(self.intercept),
                "terms": self.terms, "meta": self.meta}
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return gzip.compress(text.encode("utf-8"), mtime=0)


def from_bytes(data: bytes) -> LinearModel:
    """A model from its gzipped JSON; ValueError when it is not one."""
    body = json.loads(gzip.decompress(data))
    if body.get("format") != FORMAT:
        raise ValueError("unknown model format")
    classes = tuple(body["classes"])
    terms = {str(k): [float(x) for x in v] for k, v in body["terms"].items()}
    if any(len(v) != len(classes) + 1 for v in terms.values()) \
            or len(body["intercept"]) != len(classes):
        raise ValueError("model shapes do not match")
    return LinearModel(classes, terms, tuple(float(x) for x in body["intercept"]),
                       dict(body.get("meta") or {}), hashlib.sha256(data).hexdigest())


_cache: dict[str, LinearModel] = {}
_lock = threading.Lock()


def cached(key: str, load) -> LinearModel:
    """The model under ``key`` (its sha256), loaded once per process by ``load()``."""
    model = _cache.get(key)
    if model is None:
        with _lock:
            model = _cache.get(key)
            if model is None:
                model = _cache[key] = load()
    return model


def shipped() -> LinearModel:
    """The model shipped with the package (trained on the labelled set alone)."""
    return cached("shipped", lambda: from_bytes(SHIPPED.read_bytes()))
