"""Find what is probably wrong in a dataset: likely mislabels, outliers and near duplicates.

`find_issues(dataset)` gets out-of-sample probabilities for every sample from grouped
cross-validation (`crossval.out_of_sample_probabilities`: whole signers / source photos held
out), then asks cleanlab (confident learning) which given labels disagree with them:

- `label`: `mislabels.flag_mislabels`: the samples with the lowest out-of-sample probability of
  their given label (self-confidence, ASL twins such as V / 2 pooled), as many as cleanlab
  estimates there are label errors, whose most likely letter is another; score = 1 - that
  probability, `suggested` = the most likely letter outside the given label's twin group.
- `outlier`: cleanlab's `OutOfDistribution` on the landmark features (average distance to
  the 10 nearest neighbours); flagged with the rule cleanlab's Datalab uses on features
  (average distance above Q3 + (1/0.37037 - 1) * IQR); score = 1 - cleanlab's OOD score.
- `duplicate`: two samples whose features are nearer than 0.13 x the median nearest-neighbour
  distance (Datalab's near-duplicate rule, on cleanlab's k-NN graph), unless both are of the
  same signer / source photo with the same label (the augmented copies of one asl-letters
  photo, Massey's five lightings of one pose: there by design). score = exp(-distance/median).

Datalab itself is not used because it needs HuggingFace `datasets` (and pyarrow); the pieces
above are cleanlab's own functions plus Datalab's two documented thresholds.

The report is saved in FINGERSPELL_HOME/issues/<dataset>/issues.json with the label every
sample had when it was analysed, so `apply_issues` can turn accepted suggestions into fixes
(`Dataset.add_fix`, recorded and undoable) without running the cross-validation again, and
refuses a sample whose label changed since.
"""
from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import atomic, home
from fingerspell.data.index import Dataset
from fingerspell.errors import FingerspellError

KINDS = ("label", "outlier", "duplicate")
OUTLIER_THRESHOLD = 0.37037      # cleanlab Datalab's default for outliers found from features
DUPLICATE_THRESHOLD = 0.13       # cleanlab Datalab's default for near duplicates
NEIGHBOURS = 10
REPORT_VERSION = 1


@dataclass
class Issue:
    """One thing that is probably wrong with one sample.

    id: the sample id. kind: label | outlier | duplicate. score: 0-1, higher = more likely a
    real problem. label: the label when analysed. suggested (label issues): the letter the
    out-of-sample model gives, with its probability `confidence`. other (duplicates): the
    sample this one nearly copies.
    """

    id: int
    kind: str
    score: float
    label: str
    source: str
    suggested: str | None = None
    confidence: float | None = None
    other: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data["score"] = round(self.score, 4)
        if self.confidence is not None:
            data["confidence"] = round(self.confidence, 4)
        return data


@dataclass
class IssueReport:
    """What `find_issues` found; `to_dict()` is what issues.json holds."""

    dataset: str
    model: str
    folds: int
    samples: int
    with_hand: int
    accuracy: float                      # top-1 of the out-of-sample predictions (samples with a hand)
    issues: list[Issue]
    labels: dict[int, str]               # sample id -> label when analysed
    seconds: float = 0.0
    created: str = ""
    sheet: str | None = None
    version: int = REPORT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Issue]:
        return [i for i in self.issues if i.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "model": self.model, "folds": self.folds, "samples": self.samples,
            "with_hand": self.with_hand, "accuracy": round(self.accuracy, 4), "counts": self.counts(),
            "seconds": round(self.seconds, 1), "created": self.created, "sheet": self.sheet, "version": self.version,
            "issues": [i.to_dict() for i in self.issues], "labels": {str(k): v for k, v in self.labels.items()},
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "IssueReport":
        fields = Issue.__dataclass_fields__
        return cls(
            dataset=data["dataset"], model=data["model"], folds=int(data["folds"]), samples=int(data["samples"]),
            with_hand=int(data["with_hand"]), accuracy=float(data["accuracy"]),
            issues=[Issue(**{k: v for k, v in i.items() if k in fields}) for i in data["issues"]],
            labels={int(k): str(v) for k, v in data["labels"].items()}, seconds=float(data.get("seconds", 0.0)),
            created=data.get("created", ""), sheet=data.get("sheet"), version=int(data.get("version", 0)),
        )

    def summary(self, top: int = 10) -> str:
        c = self.counts()
        lines = [f"{self.dataset}: {self.samples} samples ({self.with_hand} with a hand), {self.folds}-fold "
                 f"out-of-sample {self.model} top-1 {self.accuracy:.1%}; likely label errors {c['label']}, "
                 f"outliers {c['outlier']}, near duplicates {c['duplicate']} ({self.seconds:.0f} s)"]
        for issue in self.issues[:top]:
            what = {"label": f"labelled {issue.label}, looks like {issue.suggested} ({issue.confidence or 0:.0%})",
                    "outlier": f"labelled {issue.label}, unlike the rest",
                    "duplicate": f"labelled {issue.label}, near copy of {issue.other}"}[issue.kind]
            lines.append(f"  {issue.id:>6}  {issue.kind:<9} {issue.score:.3f}  {what}  {issue.source}")
        if len(self.issues) > top:
            lines.append(f"  ... {len(self.issues) - top} more (--json for all)")
        if self.sheet:
            lines.append(f"contact sheet: {self.sheet}")
        return "\n".join(lines)


# ---- finding ---------------------------------------------------------------------------------
def find_issues(
    dataset: Dataset | str,
    model: str = "landmark-mlp",
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    models: int | None = None,
    rounds: int | None = None,
) -> IssueReport:
    """Likely mislabels, outliers and near duplicates of `dataset` (see the module docstring).

    models: landmark fold models per fold, averaged (default crossval.LANDMARK_MODELS).
    rounds: rounds of landmark fold models (default crossval.LANDMARK_ROUNDS: the second is
    fitted without the first's likely label errors).

    Issues come ranked: label issues first, then outliers, then duplicates, each by score.
    Raises DatasetNotFoundError, UnknownModelError and FingerspellError (no landmarks yet,
    fewer than 2 groups, fewer than 2 samples with a hand, models < 1).
    """
    from fingerspell.evaluate.crossval import LANDMARK_MODELS, LANDMARK_ROUNDS, out_of_sample_probabilities
    from fingerspell.evaluate.mislabels import FLAG_MARGIN

    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    started = time.perf_counter()
    oos = out_of_sample_probabilities(ds, model=model, folds=folds, seed=seed, progress=progress,
                                      models=models or LANDMARK_MODELS, rounds=rounds or LANDMARK_ROUNDS)
    report = issues_from_probabilities(oos)
    report.seconds = time.perf_counter() - started
    if oos.features is not None:  # what the landmark fold models were: traceable in issues.json
        report.extra["settings"] = {"models_per_fold": models or LANDMARK_MODELS,
                                    "rounds": rounds or LANDMARK_ROUNDS, "flag_margin": FLAG_MARGIN}
    return report


def issues_from_probabilities(oos: Any) -> IssueReport:
    """The issues of a `crossval.OutOfSample` (what `find_issues` does after cross-validating).

    Raises FingerspellError when fewer than 2 samples have a hand found.
    """
    started = time.perf_counter()
    found = np.flatnonzero(oos.found)
    if len(found) < 2:
        raise FingerspellError(f"dataset {oos.dataset!r}: fewer than 2 samples with a hand found; nothing to compare")
    issues = _label_issues(oos, found)
    if oos.features is not None and len(found) > NEIGHBOURS + 1:
        issues += _outliers_and_duplicates(oos, found)
    order = {kind: k for k, kind in enumerate(KINDS)}
    issues.sort(key=lambda i: (order[i.kind], -i.score, i.id))
    return IssueReport(
        dataset=oos.dataset, model=oos.model, folds=int(oos.folds.max()) + 1, samples=len(oos.samples),
        with_hand=len(found), accuracy=oos.accuracy, issues=issues,
        labels={s.id: s.label for s in oos.samples}, seconds=oos.seconds + time.perf_counter() - started,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _label_issues(oos: Any, found: np.ndarray) -> list[Issue]:
    from fingerspell.evaluate.mislabels import flag_mislabels

    labels = oos.labels[found]
    probs = oos.probs[found].astype(np.float64)
    probs = probs / np.maximum(probs.sum(1, keepdims=True), 1e-12)
    result = flag_mislabels(labels, probs, oos.classes)
    out = []
    for k in np.flatnonzero(result.flagged):
        sample = oos.samples[found[k]]
        out.append(Issue(id=sample.id, kind="label", score=float(result.score[k]), label=sample.label,
                         source=sample.where, suggested=oos.classes[int(result.suggested[k])],
                         confidence=float(result.confidence[k])))
    return out


def _outliers_and_duplicates(oos: Any, found: np.ndarray) -> list[Issue]:
    from cleanlab.internal.neighbor.knn_graph import create_knn_graph_and_index
    from cleanlab.outlier import OutOfDistribution

    features = oos.features[found].astype(np.float64)
    graph, knn = create_knn_graph_and_index(features, n_neighbors=NEIGHBOURS)
    n = graph.shape[0]
    distances = graph.data.reshape(n, -1)
    neighbours = graph.indices.reshape(n, -1)
    ood = OutOfDistribution(params={"knn": knn, "k": NEIGHBOURS})
    with warnings.catch_warnings():
        # cleanlab warns that the k-NN index passed in is fitted already: it is, on purpose.
        warnings.simplefilter("ignore", UserWarning)
        ood_scores = ood.fit_score(features=features, verbose=False)
    out: list[Issue] = []
    average = distances.mean(1)
    q1, q3 = np.percentile(average, [25, 75])
    cut = q3 + (1.0 / OUTLIER_THRESHOLD - 1.0) * (q3 - q1)
    for k in np.flatnonzero(average > cut):
        sample = oos.samples[found[k]]
        out.append(Issue(id=sample.id, kind="outlier", score=float(1.0 - ood_scores[k]), label=sample.label,
                         source=sample.where))
    median = max(float(np.median(distances[:, 0])), 1e-12)
    seen: set[tuple[int, int]] = set()
    for k in range(n):
        for d, j in zip(distances[k], neighbours[k]):
            if d >= DUPLICATE_THRESHOLD * median or k == j:
                continue
            pair = (min(k, int(j)), max(k, int(j)))
            if pair in seen:
                continue
            seen.add(pair)
            a, b = oos.samples[found[pair[0]]], oos.samples[found[pair[1]]]
            if a.label == b.label and a.signer and a.signer == b.signer:
                continue  # copies of one photo / one signer's series: there by design
            # The later sample is the one reported (and removed if the suggestion is taken).
            out.append(Issue(id=b.id, kind="duplicate", score=float(np.exp(-d / median)), label=b.label,
                             source=b.where, other=a.id))
    return out


# ---- saving, looking, fixing -------------------------------------------------------------------
def report_dir(name: str) -> Path:
    """FINGERSPELL_HOME/issues/<name>/ (the name is checked like an index name)."""
    from fingerspell.data.index import index_path

    index_path(name)  # raises for a name that could leave the folder
    return home.home() / "issues" / name


def save_report(report: IssueReport) -> Path:
    """Write the report to FINGERSPELL_HOME/issues/<dataset>/issues.json (atomically)."""
    path = report_dir(report.dataset) / "issues.json"
    atomic.write_json(path, report.to_dict())
    return path


def load_report(name: str) -> IssueReport:
    """The last saved report of dataset `name`.

    Raises FingerspellError when there is none or it cannot be read.
    """
    path = report_dir(name) / "issues.json"
    if not path.is_file():
        raise FingerspellError(f"no saved issues for {name!r}: run `fingerspell data issues {name}` first")
    try:
        return IssueReport.from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as exc:
        raise FingerspellError(f"{path}: not a readable issues report ({exc})") from None


def write_sheet(dataset: Dataset | str, report: IssueReport, out: str | Path | None = None, limit: int = 40) -> Path:
    """A contact sheet PNG of the top `limit` issues, captioned `id label->suggested` (label
    issues), `id label outlier` or `id label =other` (duplicates). Default path:
    FINGERSPELL_HOME/issues/<dataset>/issues.png. Raises FingerspellError when there are no issues."""
    from fingerspell.data.sheet import contact_sheet

    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    if not report.issues:
        raise FingerspellError(f"{report.dataset}: no issues to draw")
    path = Path(out) if out is not None else report_dir(report.dataset) / "issues.png"
    tiles = []
    for issue in report.issues[:limit]:
        sample = ds.sample(issue.id)
        caption = {"label": f"{issue.label}->{issue.suggested}", "outlier": f"{issue.label} outlier",
                   "duplicate": f"{issue.label} ={issue.other}"}[issue.kind]
        tiles.append(replace(sample, label=caption))  # the sheet captions each tile `id label`
    contact_sheet(ds, tiles, path, limit=limit, columns=8,
                  title=f"{report.dataset}: likely issues, most likely first")
    return path


@dataclass
class Applied:
    """What `apply_issues` did: fix ids added, and why other requested ids were not fixed."""

    fixes: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def apply_issues(dataset: Dataset | str, report: IssueReport, ids: Iterable[int]) -> Applied:
    """Turn the suggestions of the issues of these sample ids into fixes (recorded, undoable with
    `fingerspell data fix NAME --undo`): a label issue relabels to the suggested letter, an
    outlier or a duplicate is removed. An id with a label issue gets the relabel only.

    A sample whose label changed since the report, that is removed, or that has no issue in
    the report is skipped (with the reason). Raises FingerspellError when `report` is about
    another dataset.
    """
    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    if report.dataset != ds.name:
        raise FingerspellError(f"the issues report is about {report.dataset!r}, not {ds.name!r}")
    order = {kind: k for k, kind in enumerate(KINDS)}
    by_id: dict[int, Issue] = {}
    for issue in report.issues:
        if issue.id not in by_id or order[issue.kind] < order[by_id[issue.id].kind]:
            by_id[issue.id] = issue
    applied = Applied()
    for sample_id in dict.fromkeys(int(i) for i in ids):
        issue = by_id.get(sample_id)
        if issue is None:
            applied.skipped[sample_id] = "no issue with this id in the report"
            continue
        try:
            sample = ds.sample(sample_id)
        except FingerspellError as exc:
            applied.skipped[sample_id] = str(exc)
            continue
        if sample.removed:
            applied.skipped[sample_id] = "removed already"
        elif sample.label != report.labels.get(sample_id):
            applied.skipped[sample_id] = f"label is {sample.label} now, was {report.labels.get(sample_id)}: run again"
        elif issue.kind == "label":
            applied.fixes.append(ds.add_fix(sample_id, "relabel", issue.suggested,
                                            f"data issues: suggested {issue.suggested}"))
        elif issue.kind == "outlier":
            applied.fixes.append(ds.add_fix(sample_id, "remove", None, "data issues: outlier"))
        else:
            applied.fixes.append(ds.add_fix(sample_id, "remove", None, f"data issues: near duplicate of {issue.other}"))
    return applied


def top_label_ids(report: IssueReport, k: int) -> list[int]:
    """Sample ids of the k highest-scoring label issues. Raises FingerspellError for k < 1."""
    if k < 1:
        raise FingerspellError(f"--accept-top needs a count of at least 1, got {k}")
    return [i.id for i in report.of_kind("label")[:k]]
