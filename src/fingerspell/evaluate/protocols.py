"""Fixed accuracy protocols that measure recognition of UNSEEN signers and photos.

Every number here counts a sample where MediaPipe found no hand as WRONG (the landmark model
cannot answer without a hand) and reports the no-hand rate beside it.

Protocols (`run_accuracy_bench` runs them all and writes JSON + a Markdown table):

- `massey-loso`: Massey hands 1-4, leave one signer out (train on three, test on the fourth),
  letters only, J and Z excluded (they are motions; Massey has one frame of each), digits
  excluded. Reported twice: trained on the other Massey signers only, and trained on them
  plus every other shared landmark source (the held-out signer never seen in either).
- `asl-letters-grouped`: asl-letters by source photo (`<letter><n>`): the three augmented
  copies of a photo are held out together, 5 folds.
- `cross-dataset`: train on each of massey, asl-letters, asl-alphabet, asl-landmarks and
  "all" (all the others), test on each other dataset, common letters (J, Z excluded).
- `sign-mnist`: an image model trained on Sign-MNIST train, tested on its test split (the
  image path's number; Sign-MNIST's test set shares signers with train), through the training
  package's `train()`/`evaluate()`.

Massey and asl-letters are scored with test-time views (`TEST_VIEWS`, `load_views`): each
test image is also run through a few single detector attempts and the classifier's
probabilities are averaged over every hand found, exactly as `Predictor` does for still images
of the default bundle; the robust detection alone is reported beside it (`single_view_top1`).

The landmark protocols fit models with `fit_landmark_model`: in memory, the registered
`landmark-mlp` and the landmark-space augmentation of the `landmarks` input kind
(`LandmarkAugment`), because 30-odd fits per run through `train()` would write 30-odd run
folders and reports. `bench/train_default.py` trains the bundled default with the same
`FULL_RECIPE`, so the bench numbers describe the recipe of the shipped model.

Measured with the recipe (see bench/results/accuracy.md after `fingerspell bench accuracy`):
changes to augmentation strength, model width, epochs, label smoothing, z handling and
feature groups all moved the unseen-signer/photo numbers by less than one point, so the
simplest adequate recipe was kept.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell.data.index import Dataset
from fingerspell.errors import FingerspellError
from fingerspell.hands.features import landmark_features_batch
from fingerspell.train.landmark_inputs import LandmarkAugment, augment_points, image_sizes

LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
MOTION_LETTERS = ("J", "Z")
STATIC_LETTERS = [letter for letter in LETTERS if letter not in MOTION_LETTERS]


def canonical_label(label: str) -> str:
    """Letters upper-case (Massey's folders are lower-case); anything else as it is."""
    return label.upper() if len(label) == 1 and label.isalpha() else label


# ---- landmark sets -------------------------------------------------------------------------------
@dataclass
class LandmarkSet:
    """The cached landmarks of (part of) a dataset, as arrays."""

    name: str
    labels: np.ndarray        # str [N], canonical labels
    groups: np.ndarray        # str [N], signer / source photo ("" when none)
    points: np.ndarray        # float32 [N, 21, 3]; zeros where no hand was found
    handedness: np.ndarray    # str [N]: "Left" / "Right" / "" (unknown)
    image_size: np.ndarray    # float [N, 2] (width, height)
    found: np.ndarray         # bool [N]
    # Test-time views (see TEST_VIEWS): the same samples seen through other single detector
    # attempts; `predict_set` averages the classifier over the views that found a hand.
    views: tuple["LandmarkSet", ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> "LandmarkSet":
        return LandmarkSet(self.name, self.labels[mask], self.groups[mask], self.points[mask],
                           self.handedness[mask], self.image_size[mask], self.found[mask],
                           tuple(v.subset(mask) for v in self.views))

    def without_views(self) -> "LandmarkSet":
        return replace(self, views=())

    def letters(self, letters: Iterable[str]) -> "LandmarkSet":
        return self.subset(np.isin(self.labels, list(letters)))

    @property
    def no_hand_rate(self) -> float:
        return float(1.0 - self.found.mean()) if len(self) else 0.0

    def features(self, points: np.ndarray | None = None) -> np.ndarray:
        """Features of the samples with a hand (rows where `found`), float32 [found, F]."""
        pts = self.points if points is None else points
        keep = self.found
        return landmark_features_batch(pts[keep], list(self.handedness[keep]), self.image_size[keep])

    @staticmethod
    def concat(sets: Sequence["LandmarkSet"], name: str | None = None) -> "LandmarkSet":
        if not sets:
            raise FingerspellError("nothing to concatenate: no landmark sets")
        return LandmarkSet(
            name or "+".join(s.name for s in sets),
            *(np.concatenate([getattr(s, f) for s in sets]) for f in
              ("labels", "groups", "points", "handedness", "image_size", "found")),
        )


def load_landmark_set(dataset: Dataset | str) -> LandmarkSet:
    """All samples of a dataset with their cached landmarks (missing rows = no hand found).

    Raises DatasetNotFoundError for an unknown name and FingerspellError when the dataset has
    no landmarks at all (run `fingerspell data landmarks NAME`).
    """
    from fingerspell.hands.extract import load_landmarks

    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    samples = list(ds.samples())
    rows = load_landmarks(ds)
    if samples and not rows:
        raise FingerspellError(f"dataset {ds.name!r} has no landmarks: run `fingerspell data landmarks {ds.name}` first")
    n = len(samples)
    points = np.zeros((n, 21, 3), np.float32)
    found = np.zeros(n, bool)
    handedness = np.full(n, "", dtype="<U5")
    for i, s in enumerate(samples):
        row = rows.get(s.id)
        if row is not None and row.found and row.points is not None:
            points[i], found[i] = row.points, True
            handedness[i] = row.handedness or ""
    return LandmarkSet(
        name=ds.name,
        labels=np.array([canonical_label(s.label) for s in samples], dtype=object).astype(str),
        groups=np.array([s.signer or "" for s in samples], dtype=object).astype(str),
        points=points, handedness=handedness, image_size=image_sizes(samples), found=found,
    )


# ---- test-time views ----------------------------------------------------------------------------
# Still images are also looked at through these single detector attempts (a mirrored copy with a
# border, a small border); the classifier's probabilities are averaged over every landmark set
# found. MediaPipe's landmarks are noisy per attempt, and the mean of a few estimates is a better
# answer than any one. Measured (`fingerspell bench accuracy`, full data, refined landmarks):
# asl-letters grouped by photo 91.6% -> 93.1%, Massey leave-one-signer-out 97.9% -> 99.6%
# (pooled). A third view (pad50-low or rot10-pad25-low) and training on the views' landmarks
# as extra samples each moved asl-letters by under 0.3 points; weighting rescued detections
# lower in training and seed ensembles (before refinement) by under half a point.
# The default bundle names them in bundle.json (`test_time_views`) so `Predictor` does the same.
TEST_VIEWS: tuple[str, ...] = ("flip-pad50-low", "pad25-low")


def load_views(dataset: Dataset, views: Sequence[str] = TEST_VIEWS, progress: bool = True) -> list[LandmarkSet]:
    """The dataset's samples seen through each single detector attempt in `views`.

    Image-file samples only (pixel rows and landmark-only datasets give "no hand" views).
    Cached in FINGERSPELL_HOME/landmark-views/ per dataset, view and detector settings, keyed
    by each sample's content hash, so a re-run only detects new or changed samples.
    Raises FingerspellError for an unknown attempt name.
    """
    import hashlib
    import io

    from fingerspell import home
    from fingerspell.atomic import write_bytes
    from fingerspell.data.images import is_image_file, read_image
    from fingerspell.errors import CorruptImageError
    from fingerspell.hands.detector import HandDetector
    from fingerspell.hands.extract import DEFAULT_DETECTOR_SETTINGS

    samples = list(dataset.samples())
    base = load_landmark_set(dataset)
    out = []
    for view in views:
        detector = HandDetector(**DEFAULT_DETECTOR_SETTINGS, attempts=[view])
        key = hashlib.sha1(detector.settings_key.encode()).hexdigest()[:12]
        cache = home.home() / "landmark-views" / f"{dataset.name}-{key}.npz"
        points = np.zeros((len(samples), 21, 3), np.float32)
        found = np.zeros(len(samples), bool)
        handedness = np.full(len(samples), "", dtype="<U5")
        known: dict[str, int] = {}
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as old:
                known = {h: i for i, h in enumerate(old["hashes"])}
                old_points, old_found, old_hand = old["points"], old["found"], old["handedness"]
        todo = []
        for i, sample in enumerate(samples):
            j = known.get(sample.hash or "")
            if j is not None:
                points[i], found[i], handedness[i] = old_points[j], old_found[j], old_hand[j]
            elif sample.row is None and is_image_file(dataset.file_path(sample)):
                todo.append(i)
        if todo:
            from tqdm import tqdm

            for i in tqdm(todo, desc=f"{dataset.name} view {view}", disable=not progress, unit="img"):
                try:
                    hand = detector.detect(read_image(dataset.file_path(samples[i])))
                except CorruptImageError:
                    hand = None
                if hand is not None:
                    points[i], found[i], handedness[i] = hand.landmarks, True, hand.handedness or ""
            buffer = io.BytesIO()
            np.savez(buffer, hashes=np.array([s.hash or "" for s in samples], dtype=str),
                     points=points, found=found, handedness=handedness)
            write_bytes(cache, buffer.getvalue())
        detector.close()
        out.append(LandmarkSet(f"{dataset.name}:{view}", base.labels, base.groups, points, handedness,
                               base.image_size, found))
    return out


# ---- fitting and scoring -------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """How a landmark model is trained by the protocols and bench/train_default.py."""

    model: str = "landmark-mlp"
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.002
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    seed: int = 0
    per_source: int = 1500         # samples drawn from each training source per epoch (0 = all)
    augment: LandmarkAugment = field(default_factory=LandmarkAugment)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_landmark_model(train_set: LandmarkSet, classes: Sequence[str], recipe: Recipe = Recipe(),
                       sources: np.ndarray | None = None) -> Any:
    """Train a registered landmark model on the samples of `train_set` with a hand.

    `sources` (str [N]) names where each sample came from. Each epoch draws at most
    `recipe.per_source` samples from every source (fresh ones each epoch), so the 10,000
    near-identical webcam frames neither drown Massey's four signers nor slow every epoch;
    over the epochs all data is used. Returns the model in eval mode. Raises
    FingerspellError when there is nothing to train on.
    """
    import torch

    from fingerspell.models import create_model

    keep = train_set.found & np.isin(train_set.labels, list(classes))
    if keep.sum() < 2:
        raise FingerspellError(f"{train_set.name}: fewer than 2 training samples with a hand found")
    data = train_set.subset(keep).without_views()  # views are for scoring, not training
    index = {c: i for i, c in enumerate(classes)}
    y_all = np.array([index[label] for label in data.labels])
    src = np.asarray(sources)[keep] if sources is not None else np.full(len(data), data.name)
    members = [np.flatnonzero(src == name) for name in np.unique(src)]
    per_epoch = sum(min(len(m), recipe.per_source) if recipe.per_source else len(m) for m in members)
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    model = create_model(recipe.model, len(classes))
    steps = max(1, int(np.ceil(per_epoch / recipe.batch_size))) * recipe.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe.lr, total_steps=steps)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    model.train()
    done = 0
    for _ in range(recipe.epochs):
        chosen = np.concatenate([
            rng.choice(m, recipe.per_source, replace=False) if recipe.per_source and len(m) > recipe.per_source else m
            for m in members
        ])
        chosen = chosen[rng.permutation(len(chosen))]
        part = data.subset(chosen)
        points = augment_points(part.points, part.image_size, rng, recipe.augment)
        x = torch.as_tensor(part.features(points))
        y = torch.as_tensor(y_all[chosen])
        for start in range(0, len(y), recipe.batch_size):
            if done >= steps:
                break
            batch = slice(start, start + recipe.batch_size)
            if len(y[batch]) < 2:  # BatchNorm needs two samples
                continue
            loss = loss_fn(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            done += 1
    model.eval()
    return model


def predict_set(model: Any, data: LandmarkSet) -> tuple[np.ndarray, np.ndarray]:
    """(class index [N] with -1 where no hand was found, softmax probabilities [N, C]).

    With test-time views, the probabilities are the mean over the robust detection and every
    view that found a hand in that sample (what `Predictor` does for still images); a sample
    whose robust detection found no hand stays "no hand".
    """
    import torch

    pred = np.full(len(data), -1)
    probs = np.zeros((len(data), 0), np.float32)
    if data.found.any():
        with torch.no_grad():
            p = torch.softmax(model(torch.as_tensor(data.features())), 1).numpy()
            total = np.zeros((len(data), p.shape[1]), np.float32)
            count = np.zeros(len(data), np.float32)
            total[data.found], count[data.found] = p, 1.0
            for view in data.views:
                seen = view.found & data.found
                if seen.any():
                    total[seen] += torch.softmax(model(torch.as_tensor(view.subset(seen).features())), 1).numpy()
                    count[seen] += 1.0
        probs = total / np.maximum(count, 1.0)[:, None]
        pred[data.found] = probs[data.found].argmax(1)
    return pred, probs


@dataclass
class Score:
    """Top-1 over ALL test samples (no hand = wrong), with the no-hand rate and per letter."""

    n: int
    correct: int
    no_hand: int
    per_letter: dict[str, list[int]]  # letter -> [correct, total]

    @property
    def top1(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    @property
    def no_hand_rate(self) -> float:
        return self.no_hand / self.n if self.n else float("nan")

    def add(self, other: "Score") -> "Score":
        letters = dict(self.per_letter)
        for k, (c, t) in other.per_letter.items():
            c0, t0 = letters.get(k, [0, 0])
            letters[k] = [c0 + c, t0 + t]
        return Score(self.n + other.n, self.correct + other.correct, self.no_hand + other.no_hand, letters)

    def top1_over(self, letters: Iterable[str]) -> float:
        """Top-1 over the samples of these letters only (e.g. the 24 static ones)."""
        wanted = set(letters)
        correct = sum(c for k, (c, t) in self.per_letter.items() if k in wanted)
        total = sum(t for k, (c, t) in self.per_letter.items() if k in wanted)
        return correct / total if total else float("nan")

    def letter_accuracy(self) -> dict[str, float]:
        return {k: c / t for k, (c, t) in sorted(self.per_letter.items()) if t}

    def worst_letters(self, k: int = 5, letters: Iterable[str] | None = None) -> list[tuple[str, float]]:
        acc = self.letter_accuracy()
        if letters is not None:
            wanted = set(letters)
            acc = {a: v for a, v in acc.items() if a in wanted}
        return sorted(acc.items(), key=lambda kv: kv[1])[:k]

    def to_dict(self) -> dict[str, Any]:
        return {"top1": round(self.top1, 4), "n": self.n, "no_hand_rate": round(self.no_hand_rate, 4),
                "per_letter": {k: round(v, 4) for k, v in self.letter_accuracy().items()},
                "worst_letters": [[k, round(v, 4)] for k, v in self.worst_letters()]}


EMPTY_SCORE = Score(0, 0, 0, {})


def score_set(model: Any, data: LandmarkSet, classes: Sequence[str]) -> Score:
    """Score a model on every sample of `data` whose label is in `classes`; no hand = wrong."""
    data = data.letters(classes)
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in data.labels])
    pred, _ = predict_set(model, data)
    correct = pred == y
    per: dict[str, list[int]] = {}
    for label, ok in zip(data.labels, correct):
        per.setdefault(label, [0, 0])
        per[label][0] += int(ok)
        per[label][1] += 1
    return Score(len(y), int(correct.sum()), int((~data.found).sum()), per)


# ---- the protocols -------------------------------------------------------------------------------
@dataclass
class ProtocolResult:
    """One protocol's outcome: headline score, per-fold scores and notes."""

    name: str
    description: str
    score: Score
    folds: dict[str, Score] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def mean_fold_top1(self) -> float:
        values = [s.top1 for s in self.folds.values() if s.n]
        return float(np.mean(values)) if values else self.score.top1

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "top1": round(self.score.top1, 4),
            "mean_fold_top1": round(self.mean_fold_top1, 4), "no_hand_rate": round(self.score.no_hand_rate, 4),
            "static_top1": round(self.score.top1_over(STATIC_LETTERS), 4),
            "n": self.score.n, "min_static_letter": _min_letter(self.score),
            "pooled": self.score.to_dict(), "folds": {k: v.to_dict() for k, v in self.folds.items()},
            "seconds": round(self.seconds, 1), **self.extra,
        }


def _min_letter(score: Score) -> list[Any] | None:
    worst = score.worst_letters(1, STATIC_LETTERS)
    return [worst[0][0], round(worst[0][1], 4)] if worst else None


def massey_loso(massey: LandmarkSet, recipe: Recipe, extra: Sequence[LandmarkSet] = (),
                progress: Any = None) -> ProtocolResult:
    """Leave one Massey signer out; `extra` sets join every training fold (never the test)."""
    start = time.perf_counter()
    data = massey.letters(STATIC_LETTERS)
    signers = sorted(set(data.groups) - {""})
    if len(signers) < 2:
        raise FingerspellError(f"{massey.name}: leave-one-signer-out needs 2+ signers, found {signers}")
    tests = {signer: data.groups == signer for signer in signers}
    total, single, folds = _cross_validate(data, tests, STATIC_LETTERS, recipe, extra, progress)
    with_extra = f" + {', '.join(e.name for e in extra)}" if extra else ""
    return ProtocolResult(
        name="massey-loso" + ("+extra" if extra else ""),
        description=f"Massey leave-one-signer-out, 24 static letters; train: other Massey signers{with_extra}",
        score=total, folds=folds, seconds=time.perf_counter() - start, extra=_view_note(data, single),
    )


def _cross_validate(data: LandmarkSet, tests: dict[str, np.ndarray], classes: Sequence[str], recipe: Recipe,
                    extra: Sequence[LandmarkSet], progress: Any) -> tuple[Score, Score, dict[str, Score]]:
    """Per fold (name -> test mask): train on the rest plus `extra`, score the test part with
    its test-time views and without. Returns (pooled score, pooled single-view score, folds)."""
    total, single, folds = EMPTY_SCORE, EMPTY_SCORE, {}
    for name, test in tests.items():
        train, sources = _with_extra(data.subset(~test), data.name, extra, classes)
        model = fit_landmark_model(train, classes, recipe, sources)
        folds[name] = score_set(model, data.subset(test), classes)
        total = total.add(folds[name])
        single = single.add(score_set(model, data.subset(test).without_views(), classes))
        if progress:
            progress(f"  {name}: {folds[name].top1:.2%} (no hand {folds[name].no_hand_rate:.2%})")
    return total, single, folds


def _with_extra(train: LandmarkSet, name: str, extra: Sequence[LandmarkSet],
                classes: Sequence[str]) -> tuple[LandmarkSet, np.ndarray]:
    """The training set plus the `extra` datasets' samples of `classes`, with each sample's
    source dataset name (per-source sampling in training uses it)."""
    sources = np.array([name] * len(train))
    if not extra:
        return train, sources
    others = [e.letters(classes) for e in extra]
    sources = np.concatenate([sources] + [np.array([e.name] * len(e)) for e in others])
    return LandmarkSet.concat([train, *others]), sources


def _view_note(data: LandmarkSet, single: Score) -> dict[str, Any]:
    """With test-time views: the views used and the top-1 of the robust detection alone."""
    if not data.views:
        return {}
    return {"test_time_views": [v.name.split(":", 1)[-1] for v in data.views],
            "single_view_top1": round(single.top1, 4)}


def grouped_folds(groups: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    """Split unique groups into k folds (by a seeded shuffle); returns a bool test mask per fold."""
    unique = np.array(sorted(set(groups)))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {g: i % k for i, g in zip(range(len(unique)), unique[order])}
    assignment = np.array([fold_of[g] for g in groups])
    return [assignment == i for i in range(k)]


def asl_letters_grouped(letters_set: LandmarkSet, recipe: Recipe, k: int = 5, extra: Sequence[LandmarkSet] = (),
                        progress: Any = None) -> ProtocolResult:
    """asl-letters, k folds by source photo (`<letter><n>`), all 26 letters."""
    start = time.perf_counter()
    data = letters_set.letters(LETTERS)
    groups = np.where(data.groups == "", np.arange(len(data)).astype(str), data.groups)
    tests = {f"fold{i + 1}": test for i, test in enumerate(grouped_folds(groups, k, recipe.seed))}
    total, single, folds = _cross_validate(data, tests, LETTERS, recipe, extra, progress)
    with_extra = f" + {', '.join(e.name for e in extra)}" if extra else ""
    return ProtocolResult(
        name="asl-letters-grouped" + ("+extra" if extra else ""),
        description=f"asl-letters, {k} folds grouped by source photo, 26 letters; train: other photos{with_extra}",
        score=total, folds=folds, seconds=time.perf_counter() - start, extra=_view_note(data, single),
    )


def cross_dataset(sets: dict[str, LandmarkSet], recipe: Recipe, progress: Any = None) -> ProtocolResult:
    """Train on each dataset (and on all others together), test on every other one.

    Single view only (test-time views are not computed for the 16,000 other images: cost)."""
    start = time.perf_counter()
    sets = {name: s.without_views() for name, s in sets.items()}
    classes = STATIC_LETTERS
    names = list(sets)
    matrix: dict[str, dict[str, dict[str, Any]]] = {}
    total = EMPTY_SCORE
    for train_name in names + ["all"]:
        row: dict[str, dict[str, Any]] = {}
        model = None
        if train_name != "all":
            model = fit_landmark_model(sets[train_name], classes, recipe)
        for test_name in names:
            if test_name == train_name:
                continue
            if train_name == "all":  # all the other datasets, the test one left out
                others = [sets[n] for n in names if n != test_name]
                sources = np.concatenate([np.array([s.name] * len(s)) for s in others])
                model = fit_landmark_model(LandmarkSet.concat(others, "all"), classes, recipe, sources)
                total = total.add(score := score_set(model, sets[test_name], classes))
            else:
                score = score_set(model, sets[test_name], classes)
            row[test_name] = {"top1": round(score.top1, 4), "no_hand_rate": round(score.no_hand_rate, 4), "n": score.n}
            if progress:
                progress(f"  train {train_name} -> test {test_name}: {score.top1:.2%}")
        matrix[train_name] = row
    return ProtocolResult(
        name="cross-dataset",
        description="train on one dataset (or all the others), test on another; 24 static letters",
        score=total, extra={"matrix": matrix}, seconds=time.perf_counter() - start,
    )


# ---- the whole bench -----------------------------------------------------------------------------
# (index name, folder under the shared datasets root, what the folder holds)
BENCH_SOURCES = (
    ("massey", "massey/asl_dataset", "images"),
    ("asl-letters", "asl-letters", "images"),
    ("asl-alphabet", "asl-alphabet/asl_alphabet_train", "images"),
    ("asl-landmarks", "asl-landmarks/landmarks.npz", "landmarks"),
)
VIEW_SETS = ("massey", "asl-letters")  # the sets whose protocols score with test-time views
QUICK_RECIPE = Recipe(model="landmark-mlp-small", epochs=12, batch_size=32)
FULL_RECIPE = Recipe()


@dataclass
class BenchSettings:
    """What `fingerspell bench accuracy` runs; `quick` = small real subsets, few epochs (CI)."""

    data_root: Path
    out: Path
    quick: bool = False
    recipe: Recipe | None = None
    image_model: str = "letters-cnn"
    image_epochs: int | None = None
    skip_image_models: bool = False
    # Test-time views for the unseen-signer / unseen-photo protocols (massey, asl-letters).
    test_views: tuple[str, ...] = TEST_VIEWS

    @property
    def effective_recipe(self) -> Recipe:
        return self.recipe or (QUICK_RECIPE if self.quick else FULL_RECIPE)


def default_data_root() -> Path:
    """`FINGERSPELL_SHARED_DATASETS`, else ../shared/datasets from the working folder."""
    import os

    env = os.environ.get("FINGERSPELL_SHARED_DATASETS")
    return Path(env) if env else Path.cwd().parent / "shared" / "datasets"


def _quick_subset(name: str, source: Path, target: Path) -> Path:
    """A small copy of a shared dataset in its own layout: a spread of its files (copied: the
    importers keep paths relative to the dataset root, so links out of it are refused)."""
    import shutil

    if target.exists():
        shutil.rmtree(target)
    if name == "asl-landmarks":
        with np.load(source, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
        picks = np.concatenate([np.flatnonzero(y == letter)[::20][:20] for letter in np.unique(y)])
        target.mkdir(parents=True)
        np.savez(target / "landmarks.npz", x=x[picks], y=y[picks])
        return target / "landmarks.npz"
    if name == "asl-letters":
        images = sorted((source / "train" / "images").glob("*.jpg"))
        by_photo: dict[str, list[Path]] = {}
        for image in images:
            by_photo.setdefault(image.name.split("_jpg")[0], []).append(image)
        per_letter: dict[str, list[str]] = {}
        for photo in sorted(by_photo, key=lambda p: (p[0], int("".join(c for c in p[1:] if c.isdigit()) or 0))):
            per_letter.setdefault(photo[0].upper(), []).append(photo)
        chosen = [p for photos in per_letter.values() for p in photos[:5]]
        (target / "train" / "images").mkdir(parents=True)
        (target / "train" / "labels").mkdir(parents=True)
        shutil.copy(source / "data.yaml", target / "data.yaml")
        for photo in chosen:
            image = by_photo[photo][0]  # one copy per photo keeps it small
            shutil.copyfile(image, target / "train" / "images" / image.name)
            label = source / "train" / "labels" / (image.stem + ".txt")
            shutil.copyfile(label, target / "train" / "labels" / label.name)
        return target
    # class folders: massey/<class>/hand<N>_..., asl-alphabet/<class>/<class><n>.jpg
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        if canonical_label(folder.name) not in LETTERS:
            continue
        files = sorted(folder.iterdir())
        if name == "massey":  # two per signer and letter, from different lights
            by_signer: dict[str, list[Path]] = {}
            for f in files:
                by_signer.setdefault(f.name.split("_")[0], []).append(f)
            picked = [f for fs in by_signer.values() for f in fs[:: max(1, len(fs) // 2)][:2]]
        else:
            picked = files[:: max(1, len(files) // 4)][:4]
        (target / folder.name).mkdir(parents=True, exist_ok=True)
        for f in picked:
            shutil.copyfile(f, target / folder.name / f.name)
    return target


def prepare_datasets(settings: BenchSettings, log: Any = print) -> tuple[dict[str, LandmarkSet], dict[str, Any]]:
    """Import (once) and extract landmarks (cached) for the bench's datasets.

    Full runs use indexes named massey, asl-letters, asl-alphabet, asl-landmarks (made from
    the shared folder if missing); quick runs build `quick-<name>` from small subsets.
    Returns the landmark sets and the extraction statistics (found rate, images/s).
    Raises DatasetFormatError when a shared dataset is missing.
    """
    from fingerspell import home
    from fingerspell.data.importer import import_dataset
    from fingerspell.data.index import dataset_names
    from fingerspell.errors import DatasetFormatError
    from fingerspell.hands.extract import extract_landmarks

    sets: dict[str, LandmarkSet] = {}
    stats: dict[str, Any] = {}
    for name, folder, _kind in BENCH_SOURCES:
        source = settings.data_root / folder
        if not source.exists():
            raise DatasetFormatError(f"{source}: shared dataset {name!r} not found (set --data-root)")
        index_name = f"quick-{name}" if settings.quick else name
        if index_name not in dataset_names():
            path = _quick_subset(name, source, home.home() / "bench-data" / index_name) if settings.quick else source
            log(f"importing {path} as {index_name}")
            import_dataset(path, name=index_name, replace=True).close()
        with Dataset.load(index_name) as ds:
            result = extract_landmarks(ds, progress=True)
            sets[name] = load_landmark_set(ds)
            sets[name].name = name
            if settings.test_views and name in VIEW_SETS:
                sets[name].views = tuple(load_views(ds, settings.test_views))
        stats[name] = {
            # found rate over the samples that show a hand (asl-alphabet's `nothing` does not)
            "samples": len(sets[name]), "found_rate": round(float(result.rate), 4) if result.with_hand else 1.0,
            "newly_extracted": int(result.computed),
            "images_per_s": round(float(result.images_per_second), 2) if result.computed else None,
        }
        log(f"{name}: {len(sets[name])} samples, hand found in {stats[name]['found_rate']:.2%}"
            + (f", extraction {stats[name]['images_per_s']} images/s" if stats[name]["images_per_s"] else " (cached)"))
    return sets, stats


def image_model_bench(settings: BenchSettings, log: Any = print) -> dict[str, Any]:
    """Sign-MNIST test accuracy of an image model trained with the training package."""
    from fingerspell import home
    from fingerspell.data.importer import import_dataset
    from fingerspell.data.index import dataset_names
    from fingerspell.evaluate.report import evaluate
    from fingerspell.train.loop import train

    source = settings.data_root / "sign-mnist"
    name = "quick-sign-mnist" if settings.quick else "sign-mnist"
    if name not in dataset_names():
        path = source
        if settings.quick:
            import gzip

            path = home.home() / "bench-data" / name
            path.mkdir(parents=True, exist_ok=True)
            for part, rows in (("train", 2000), ("test", 400)):
                with gzip.open(source / f"sign_mnist_{part}.csv.gz", "rt") as src:
                    lines = [next(src) for _ in range(rows + 1)]
                (path / f"sign_mnist_{part}.csv").write_text("".join(lines))
        import_dataset(path, name=name, replace=True).close()
    epochs = settings.image_epochs or (3 if settings.quick else 8)
    start = time.perf_counter()
    run = train(name, settings.image_model, epochs=epochs, progress=False, threads=1)
    report = evaluate(run.path if hasattr(run, "path") else run, name, split="test", progress=False)
    log(f"sign-mnist: {settings.image_model} {epochs} epochs -> test top-1 {report.top1:.2%}")
    return {"model": settings.image_model, "epochs": epochs, "top1": round(report.top1, 4), "n": report.n,
            "run": str(getattr(run, "path", run)), "seconds": round(time.perf_counter() - start, 1),
            "note": "Sign-MNIST's test set shares signers with its train set: memory more than generalisation"}


def run_accuracy_bench(settings: BenchSettings, log: Any = print) -> dict[str, Any]:
    """Run every protocol; write `accuracy.json` and `accuracy.md` into `settings.out`.

    Returns the JSON-able results. Raises FingerspellError (missing data, no landmarks).
    """
    import torch

    started = time.perf_counter()
    recipe = settings.effective_recipe
    threads = torch.get_num_threads()
    try:
        # Small MLPs run fastest on one thread; more only add synchronisation.
        torch.set_num_threads(1)
        return _run_accuracy_bench(settings, recipe, started, log)
    finally:
        torch.set_num_threads(threads)


def _run_accuracy_bench(settings: BenchSettings, recipe: Recipe, started: float, log: Any) -> dict[str, Any]:
    import platform

    from fingerspell.atomic import write_json, write_text
    from fingerspell.hands.features import FEATURES_VERSION

    sets, extraction = prepare_datasets(settings, log)
    results: dict[str, Any] = {
        "quick": settings.quick, "features": FEATURES_VERSION, "recipe": recipe.to_dict(),
        "torch_threads": 1, "machine": platform.machine(), "test_time_views": list(settings.test_views),
        "extraction": extraction, "protocols": {},
    }
    others = [s for n, s in sets.items() if n != "massey"]
    log("massey leave-one-signer-out")
    runs = [massey_loso(sets["massey"], recipe, progress=log),
            massey_loso(sets["massey"], recipe, extra=others, progress=log)]
    log("asl-letters grouped by source photo")
    runs.append(asl_letters_grouped(sets["asl-letters"], recipe, k=3 if settings.quick else 5, progress=log))
    runs.append(asl_letters_grouped(sets["asl-letters"], recipe, k=3 if settings.quick else 5,
                                    extra=[s for n, s in sets.items() if n != "asl-letters"], progress=log))
    log("cross-dataset matrix")
    runs.append(cross_dataset(sets, recipe, progress=log))
    for result in runs:
        results["protocols"][result.name] = result.to_dict()
    if not settings.skip_image_models:
        try:
            results["sign_mnist"] = image_model_bench(settings, log)
        except FingerspellError as exc:  # the landmark numbers still stand; say why this one is missing
            results["sign_mnist"] = {"error": str(exc)}
            log(f"sign-mnist image model skipped: {exc}")
    results["default_bundle"] = default_bundle_size()
    results["seconds"] = round(time.perf_counter() - started, 1)
    settings.out.mkdir(parents=True, exist_ok=True)
    write_json(settings.out / "accuracy.json", results)
    write_text(settings.out / "accuracy.md", markdown_table(results))
    return results


def default_bundle_size() -> dict[str, Any] | None:
    """Size of the bundled default model (model.onnx bytes, parameters), or None if absent."""
    from fingerspell.home import default_bundle_dir

    folder = default_bundle_dir()
    model, manifest = folder / "model.onnx", folder / "bundle.json"
    if not model.is_file():
        return None
    info: dict[str, Any] = {"path": str(folder), "onnx_bytes": model.stat().st_size}
    try:
        info["parameters"] = json.loads(manifest.read_text()).get("model", {}).get("parameters")
    except (OSError, ValueError):
        pass
    return info


def _pct(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.1f}%"


def markdown_table(results: dict[str, Any]) -> str:
    """The bench's results as Markdown: one table of protocols, one cross-dataset matrix."""
    lines = [
        f"# Accuracy bench{' (quick: small subsets, few epochs - not the real numbers)' if results['quick'] else ''}",
        "",
        f"Features `{results['features']}`, model `{results['recipe']['model']}`, "
        f"{results['recipe']['epochs']} epochs. Images where no hand was found count as wrong.",
        "",
        "| dataset | samples | hand found | extraction images/s |",
        "|---|---:|---:|---:|",
    ]
    for name, s in results["extraction"].items():
        lines.append(f"| {name} | {s['samples']} | {_pct(s['found_rate'])} | {s['images_per_s'] or 'cached'} |")
    lines += ["", "| protocol | top-1 (pooled) | mean over folds | static letters | no hand | worst static letter | n |",
              "|---|---:|---:|---:|---:|---|---:|"]
    for name, p in results["protocols"].items():
        worst = p.get("min_static_letter")
        worst_text = f"{worst[0]} {_pct(worst[1])}" if worst else "-"
        lines.append(f"| {name} | {_pct(p['top1'])} | {_pct(p['mean_fold_top1'])} | {_pct(p.get('static_top1'))} | "
                     f"{_pct(p['no_hand_rate'])} | {worst_text} | {p['n']} |")
        if p.get("folds") and name.startswith("massey"):
            folds = ", ".join(f"{k} {_pct(v['top1'])}" for k, v in p["folds"].items())
            lines.append(f"| &nbsp;&nbsp;per signer | {folds} | | | | | |")
    single = {n: p["single_view_top1"] for n, p in results["protocols"].items() if "single_view_top1" in p}
    if single:
        views = ", ".join(f"`{v}`" for v in results.get("test_time_views", []))
        lines += ["", f"Massey and asl-letters are scored with test-time views ({views}: probabilities averaged "
                  "over the robust detection and each view that finds the hand, as the predictor does for still "
                  "images). The robust detection alone: "
                  + ", ".join(f"{n} {_pct(v)}" for n, v in single.items()) + "."]
    matrix = results["protocols"].get("cross-dataset", {}).get("matrix")
    if matrix:
        tests = sorted({t for row in matrix.values() for t in row})
        lines += ["", "Cross-dataset top-1 (rows: trained on; columns: tested on; 24 static letters):", "",
                  "| train \\ test | " + " | ".join(tests) + " |", "|---|" + "---:|" * len(tests)]
        for train_name, row in matrix.items():
            lines.append(f"| {train_name} | " + " | ".join(_pct(row[t]["top1"]) if t in row else "-" for t in tests) + " |")
    sm = results.get("sign_mnist")
    if sm:
        lines += ["", "Sign-MNIST test (image model): "
                  + (f"`{sm['model']}` {sm['epochs']} epochs, top-1 {_pct(sm['top1'])} (n={sm['n']}). {sm['note']}."
                     if "top1" in sm else f"not run: {sm['error']}")]
    bundle = results.get("default_bundle")
    if bundle:
        lines += ["", f"Default bundle: model.onnx {bundle['onnx_bytes'] / 1024:.0f} KiB"
                  + (f", {bundle['parameters']:,} parameters" if bundle.get("parameters") else "") + "."]
    lines += ["", f"Total time {results['seconds']} s."]
    return "\n".join(lines) + "\n"
