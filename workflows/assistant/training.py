"""Training the category classifier with scikit-learn, and measuring it.

Samples are (category, description) pairs: the labelled set written for jiefen
(``tests/data/assistant_labelled.tsv``, shipped to ``share/jiefen/assistant``) plus, once there
are enough, the district's closed cases with the category they were handled under. Training is
deterministic (``SEED``); every figure is measured through the exported ``LinearModel``, the
same code that serves suggestions.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workflows.assistant.model import FORMAT, LinearModel, features, from_bytes
from workflows.core.settings import ROOT

SEED = 20261205
C = 10.0          # inverse regularisation: chosen by cross-validation on the labelled set
FOLDS = 5
HELD_OUT = 0.25   # share of each category kept out for the held-out figures
Sample = tuple[str, str]


def labelled_path() -> Path:
    """The labelled set: the checkout's tests/data, else the installed copy."""
    local = ROOT / "tests" / "data" / "assistant_labelled.tsv"
    if local.is_file():
        return local
    return Path(sys.prefix) / "share" / "jiefen" / "assistant" / "assistant_labelled.tsv"


def read_labelled(path: Path | None = None) -> list[Sample]:
    """(category, text) rows of a tab-separated file; ``#`` lines are comments."""
    rows = []
    for line in (path or labelled_path()).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, _, text = line.partition("\t")
            if code and text.strip():
                rows.append((code.strip(), text.strip()))
    return rows


@dataclass(frozen=True)
class Accuracy:
    """Share of texts whose category came first, or among the first three."""

    top1: float
    top3: float
    count: int


class Features:
    """Each text's features computed once for one training run (cross-validation asks for the
    same texts again); kept in memory only for the run, as descriptions are personal content."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str) -> tuple[str, ...]:
        found = self._found.get(text)
        if found is None:
            found = self._found[text] = features(text)
        return found


def train(samples: Sequence[Sample], meta: dict | None = None,
          of: Features | None = None) -> LinearModel:
    """A model fitted on ``samples`` (scikit-learn is imported here only)."""
    of = of or Features()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=_same, sublinear_tf=True)
    matrix = vectorizer.fit_transform([of(text) for _, text in samples])
    classifier = LogisticRegression(C=C, max_iter=5000, random_state=SEED)
    classifier.fit(matrix, [code for code, _ in samples])
    classes = [str(c) for c in classifier.classes_]
    terms = {}
    for term, column in vectorizer.vocabulary_.items():
        weights = [round(float(classifier.coef_[k][column]), 5) for k in range(len(classes))]
        terms[str(term)] = [round(float(vectorizer.idf_[column]), 5), *weights]
    body = LinearModel(tuple(classes), terms,
                       tuple(round(float(b), 5) for b in classifier.intercept_),
                       {"format": FORMAT, "seed": SEED, "C": C, "samples": len(samples),
                        **(meta or {})}, "")
    return from_bytes(body.to_bytes())   # the form it is stored and served in


def _same(doc: list[str]) -> list[str]:
    return doc


def measure(model: LinearModel, samples: Iterable[Sample], of: Features | None = None
            ) -> Accuracy:
    """Top-1 and top-3 accuracy of ``model`` on ``samples``."""
    of = of or Features()
    top1 = top3 = count = 0
    for code, text in samples:
        ranked = [c for c, _ in model.scores(text, of(text))[:3]]
        top1 += ranked[0] == code
        top3 += code in ranked
        count += 1
    return Accuracy(top1 / count if count else 0.0, top3 / count if count else 0.0, count)


def split(samples: Sequence[Sample], share: float = HELD_OUT, seed: int = SEED
          ) -> tuple[list[Sample], list[Sample]]:
    """(train, held out): ``share`` of each category held out, chosen with ``seed``."""
    by_code: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_code[sample[0]].append(sample)
    rng = random.Random(seed)
    kept, held = [], []
    for code in sorted(by_code):
        rows = list(by_code[code])
        rng.shuffle(rows)
        cut = max(1, round(len(rows) * share))
        held += rows[:cut]
        kept += rows[cut:]
    return kept, held


def held_out(samples: Sequence[Sample]) -> Accuracy:
    """Train on three quarters of each category, measure on the rest."""
    kept, held = split(samples)
    return measure(train(kept), held)


def cross_validate(samples: Sequence[Sample], folds: int = FOLDS) -> Accuracy:
    """Stratified k-fold accuracy: every sample is measured by a model not trained on it."""
    by_code: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_code[sample[0]].append(sample)
    rng = random.Random(SEED)
    fold_of: list[list[Sample]] = [[] for _ in range(folds)]
    for code in sorted(by_code):
        rows = list(by_code[code])
        rng.shuffle(rows)
        for index, row in enumerate(rows):
            fold_of[index % folds].append(row)
    top1 = top3 = 0.0
    count = 0
    of = Features()
    for k in range(folds):
        rest = [s for j, fold in enumerate(fold_of) if j != k for s in fold]
        found = measure(train(rest, of=of), fold_of[k], of)
        top1 += found.top1 * found.count
        top3 += found.top3 * found.count
        count += found.count
    return Accuracy(top1 / count, top3 / count, count)


def build_shipped(path: Path | None = None) -> LinearModel:
    """Train the shipped model on the whole labelled set, with its cross-validated and
    held-out figures in its metadata, and write it (``benchmarks/assistant_accuracy.py --ship``)."""
    from workflows.assistant.model import SHIPPED

    samples = read_labelled()
    cv, held = cross_validate(samples), held_out(samples)
    model = train(samples, {"closed_cases": 0, "cv_top1": cv.top1, "cv_top3": cv.top3,
                            "folds": FOLDS, "held_out_top1": held.top1,
                            "held_out_top3": held.top3, "held_out_count": held.count})
    (path or SHIPPED).write_bytes(model.to_bytes())
    return model

