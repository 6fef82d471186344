"""The intake assistant's accuracy on descriptions it was not trained on, and its speed.

    python benchmarks/assistant_accuracy.py [--ship]

Prints the held-out figures (a quarter of each category of tests/data/assistant_labelled.tsv
kept out, chosen with the training seed; the model is trained on the rest), the 5-fold
cross-validated figures over the whole set, the shipped model's figures, and how long a
suggestion takes. With ``--ship`` it also rewrites workflows/assistant/model.json.gz, trained on
the whole set (deterministic: the same data gives the same file). Not a timed test: it prints,
it does not assert.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflows.assistant import training  # noqa: E402
from workflows.assistant.model import shipped  # noqa: E402
from workflows.assistant.suggest import suggest_text  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ship", action="store_true", help="rewrite the shipped model file")
    args = parser.parse_args()
    samples = training.read_labelled()
    kept, held = training.split(samples)
    started = time.perf_counter()
    model = training.train(kept)
    trained = time.perf_counter() - started
    figures = training.measure(model, held)
    print(f"labelled set: {len(samples)} descriptions, {len({c for c, _ in samples})} categories")
    print(f"held-out:  top-1 {figures.top1:.1%}  top-3 {figures.top3:.1%}  "
          f"({figures.count} held out, {len(kept)} trained on; training {trained:.1f} s)")
    by_code: dict[str, list[int]] = {}
    for code, text in held:
        ranked = [c for c, _ in model.scores(text)[:3]]
        hit = by_code.setdefault(code, [0, 0, 0])
        hit[0] += 1
        hit[1] += ranked[0] == code
        hit[2] += code in ranked
    for code, (count, top1, top3) in sorted(by_code.items()):
        print(f"  {code:<20} {count:3d}  top-1 {top1 / count:6.1%}  top-3 {top3 / count:6.1%}")
    cv = training.cross_validate(samples)
    print(f"{training.FOLDS}-fold cross-validated: top-1 {cv.top1:.1%}  top-3 {cv.top3:.1%}")
    if args.ship:
        built = training.build_shipped()
        print(f"wrote the shipped model from {training.labelled_path().name}: sha256 "
              f"{built.sha256[:12]}")
    current = shipped().meta
    print(f"shipped model: trained on {current.get('samples')}, cross-validated top-1 "
          f"{current.get('cv_top1', 0):.1%}, held-out top-1 {current.get('held_out_top1', 0):.1%} "
          f"top-3 {current.get('held_out_top3', 0):.1%}")
    texts = [text for _, text in held]
    started = time.perf_counter()
    for text in texts:
        suggest_text(text)
    each = (time.perf_counter() - started) / len(texts) * 1000
    print(f"suggestion: {each:.1f} ms each over {len(texts)} texts (warm, one process)")


if __name__ == "__main__":
    main()
