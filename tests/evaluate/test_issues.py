"""`data issues`: flipped labels in real Massey photos are found by the cross-validated
cleanlab finder, suggestions become undoable fixes, and the command line's JSON and errors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fingerspell.cli import main
from fingerspell.data.index import Dataset, SampleRecord
from fingerspell.evaluate.crossval import group_folds
from fingerspell.evaluate.issues import apply_issues, find_issues, load_report, save_report

# Letters whose hand shapes differ clearly, so a small model separates them.
LETTERS = ("a", "b", "c", "l", "v", "y", "w", "i")
PER_SIGNER = 4  # images per letter and signer: 8 letters x 4 signers x 4 = 128 photos


def _massey_subset_records(datasets_root: Path) -> list[SampleRecord]:
    root = datasets_root / "massey" / "asl_dataset"
    records = []
    for letter in LETTERS:
        for signer in ("hand1", "hand2", "hand3", "hand4"):
            for path in sorted((root / letter).glob(f"{signer}_*"))[:PER_SIGNER]:
                records.append(SampleRecord(source=f"{letter}/{path.name}", label=letter.upper(), signer=signer,
                                            width=400, height=400, hash=path.name))
    return records


@pytest.fixture(scope="module")
def massey_index(tmp_path_factory, datasets_root) -> Path:
    """A 128-photo Massey index (read in place) with its landmarks extracted: built once."""
    from fingerspell.hands.extract import extract_landmarks

    home = tmp_path_factory.mktemp("issues-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINGERSPELL_HOME", str(home))
        ds = Dataset.create("massey-bit", root=datasets_root / "massey" / "asl_dataset", format="folders",
                            classes=[letter.upper() for letter in LETTERS], records=_massey_subset_records(datasets_root))
        stats = extract_landmarks(ds, progress=False, workers=1)
        ds.close()
    assert stats.found >= 120, stats.worst_letters()
    return home / "datasets" / "massey-bit.sqlite"


@pytest.fixture
def massey_bit(massey_index, fs_home) -> Dataset:
    """A private copy of the index in this test's FINGERSPELL_HOME."""
    target = fs_home / "datasets" / "massey-bit.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(massey_index, target)
    return Dataset.load("massey-bit")


def _flip(ds: Dataset, share: float, seed: int) -> dict[int, str]:
    """Relabel `share` of the samples to another letter at random, as fixes; {id: true label}."""
    rng = np.random.default_rng(seed)
    samples = list(ds.samples())
    chosen = rng.choice(len(samples), max(1, round(share * len(samples))), replace=False)
    flipped = {}
    for k in chosen:
        s = samples[k]
        wrong = str(rng.choice([c for c in ds.classes if c != s.label]))
        ds.add_fix(s.id, "relabel", wrong, "test: flipped at random")
        flipped[s.id] = s.label
    return flipped


def test_group_folds_keep_each_signer_whole_and_balance_the_folds():
    groups = ["hand1"] * 50 + ["hand2"] * 40 + ["hand3"] * 30 + ["hand4"] * 20 + [None] * 10
    folds = group_folds(groups, 3, seed=1)
    for name in ("hand1", "hand2", "hand3", "hand4"):
        assert len({folds[i] for i, g in enumerate(groups) if g == name}) == 1
    sizes = np.bincount(folds)
    assert len(sizes) == 3 and sizes.max() - sizes.min() <= 20
    assert group_folds(["a", "a", "b"], 5).max() == 1  # no more folds than groups


def test_flipped_labels_are_found_with_the_true_letter_suggested(massey_bit):
    flipped = _flip(massey_bit, 0.05, seed=3)
    report = find_issues(massey_bit, folds=4, seed=0)
    assert report.folds == 4 and report.with_hand >= 120
    flagged = {i.id: i for i in report.of_kind("label")}
    hits = set(flagged) & set(flipped)
    precision = len(hits) / max(1, len(flagged))
    recall = len(hits) / len(flipped)
    # Floors for this tiny set (6 flips in 128, fold models fitted on ~96 photos): flip seeds 0-5
    # all flagged at precision 1.0 with 5 or 6 of the 6 found (two rounds, margin 0.7); the full
    # sets are measured by bench/bench_issues.py.
    assert recall >= 0.8, (sorted(flipped), sorted(flagged))
    assert precision >= 0.8, (sorted(flipped), sorted(flagged))
    top = [i.id for i in report.of_kind("label")[:len(flipped)]]
    assert len(set(top) & set(flipped)) >= len(flipped) - 1, (sorted(flipped), top)
    assert sum(flagged[i].suggested == flipped[i] for i in hits) >= 0.8 * len(hits)
    scores = [i.score for i in report.of_kind("label")]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


def test_accepted_suggestions_become_undoable_fixes(massey_bit, capsys):
    flipped = _flip(massey_bit, 0.05, seed=3)
    assert main(["data", "issues", "massey-bit", "--folds", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    label_issues = [i for i in out["issues"] if i["kind"] == "label"]
    assert label_issues and all({"id", "kind", "score", "suggested"} <= set(i) for i in label_issues)
    assert {i["kind"] for i in out["issues"]} <= {"label", "outlier", "duplicate"}
    assert Path(out["sheet"]).is_file() and Path(out["sheet"]).stat().st_size > 10_000

    top = label_issues[:3]
    assert main(["data", "issues", "massey-bit", "--accept-top", "3"]) == 0
    ds = Dataset.load("massey-bit")
    for issue in top:
        assert ds.sample(issue["id"]).label == issue["suggested"]
    reasons = [f["reason"] for f in ds.fixes(include_undone=False)][-3:]
    assert reasons == [f"data issues: suggested {i['suggested']}" for i in top]
    repaired = sum(ds.sample(i["id"]).label == flipped.get(i["id"]) for i in top)
    assert repaired >= 2  # the top suggestions put the true letter back
    for _ in top:
        ds.undo_fix()
    for issue in top:
        assert ds.sample(issue["id"]).label != issue["suggested"]

    # Taking a suggestion twice, or for an id the report does not name, is refused per id.
    assert main(["data", "issues", "massey-bit", "--apply", f"{top[0]['id']},999999"]) == 0
    assert main(["data", "issues", "massey-bit", "--apply", str(top[0]["id"])]) == 1
    assert "label is" in capsys.readouterr().err


def test_apply_needs_a_saved_run_and_refuses_another_dataset(massey_bit, capsys):
    assert main(["data", "issues", "massey-bit", "--apply", "1"]) == 2
    assert "run `fingerspell data issues massey-bit` first" in capsys.readouterr().err
    report = find_issues(massey_bit, folds=2, seed=0, rounds=1)
    save_report(report)
    assert load_report("massey-bit").labels == report.labels
    report.dataset = "other"
    with pytest.raises(Exception, match="about 'other'"):
        apply_issues(massey_bit, report, [1])
    assert main(["data", "issues", "massey-bit", "--apply", "1,x"]) == 2
    assert "sample ids separated by commas" in capsys.readouterr().err


def test_dataset_without_landmarks_is_one_clear_error(massey_bit, capsys):
    with massey_bit.db:
        massey_bit.db.execute("DELETE FROM landmarks")
    assert main(["data", "issues", "massey-bit"]) == 2
    assert "run `fingerspell data landmarks massey-bit` first" in capsys.readouterr().err


def test_an_image_model_gives_every_sample_out_of_sample_probabilities(massey_bit):
    from fingerspell.evaluate.crossval import out_of_sample_probabilities

    oos = out_of_sample_probabilities(massey_bit, model="letters-cnn-64", folds=2, steps=1)
    assert oos.found.all() and oos.features is None
    np.testing.assert_allclose(oos.probs.sum(1), 1.0, atol=1e-4)
    for signer in ("hand1", "hand2", "hand3", "hand4"):
        assert len({f for f, s in zip(oos.folds, oos.samples) if s.signer == signer}) == 1


def test_data_issues_and_eval_detection_have_help(capsys):
    for command in (["data", "issues"], ["eval"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert "--apply" in text or "--detection" in text
