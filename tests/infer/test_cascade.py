"""The still-image cascade: the fast path first, the full path (refinement + test-time views)
only for uncertain answers; the bundle's default threshold when no --conf is given."""
from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest

from fingerspell.data.images import read_image
from fingerspell.errors import BundleError
from fingerspell.export.bundle import Bundle
from fingerspell.infer.batch import run_prediction
from fingerspell.infer.predictor import Predictor

LETTERS = ("a", "m", "r", "t", "y", "k")


@pytest.fixture(scope="module")
def images(datasets_root):
    """Six real Massey photos of letters the model finds harder and easier."""
    root = datasets_root / "massey" / "asl_dataset"
    return [read_image(sorted((root / letter).iterdir())[3]) for letter in LETTERS]


def bundle_with(bundle_dir, tmp_path, **still):
    """A copy of the default bundle whose "still" settings are changed as given."""
    target = tmp_path / "bundle"
    shutil.copytree(bundle_dir, target)
    manifest = json.loads((target / "bundle.json").read_text())
    base = manifest.get("still") or {"threshold": 0.5, "escalate_below": 0.9, "temperature_fast": 1.0,
                                     "temperature_full": 1.0}
    manifest["still"] = {**base, **still}
    (target / "bundle.json").write_text(json.dumps(manifest))
    return target


def test_the_default_bundle_has_fitted_still_settings(bundle_dir):
    still = Bundle.load(bundle_dir).still
    assert still.fitted and 0 < still.threshold < 1 and 0 < still.escalate_below <= 1
    assert "unseen" in still.extra["fitted_on"]


def test_a_bar_of_zero_never_escalates_and_a_bar_of_one_escalates_every_hand(bundle_dir, tmp_path, images):
    with Predictor(bundle_with(bundle_dir, tmp_path / "zero", escalate_below=0.0)) as never:
        low = [never.predict_image(image) for image in images]
    one = bundle_with(bundle_dir, tmp_path / "one", escalate_below=1.0)
    with Predictor(one) as always, Predictor(one, still="full") as full:
        high = [always.predict_image(image) for image in images]
        reference = [full.predict_image(image) for image in images]
    assert all(p.hand for p in low + high)
    assert [p.escalated for p in low] == [False] * len(images)
    assert [p.escalated for p in high] == [True] * len(images)
    # An escalated image is answered by the full path (the same probabilities as --full).
    for cascaded, alone in zip(high, reference):
        assert cascaded.top5[0][0] == alone.top5[0][0]
        assert cascaded.probabilities == pytest.approx(alone.probabilities, abs=1e-6)


def test_only_uncertain_images_escalate(bundle_dir, images):
    with Predictor(bundle_dir) as cascade, Predictor(bundle_dir, still="fast") as fast:
        bar = cascade.still_params.escalate_below
        for image in images:
            first = fast.predict_image(image)
            answer = cascade.predict_image(image)
            assert answer.escalated == (first.probabilities.max() < bar)
            assert first.escalated is None  # --fast never escalates


def test_fast_never_escalates_from_the_cli_path(bundle_dir, tmp_path, datasets_root):
    folder = tmp_path / "photos" / "r"
    folder.mkdir(parents=True)
    for path in sorted((datasets_root / "massey" / "asl_dataset" / "r").iterdir())[:4]:
        shutil.copy(path, folder / path.name)
    target = bundle_with(bundle_dir, tmp_path, escalate_below=1.0)
    fast = run_prediction(str(folder.parent), model=target, out=StringIO(), progress=False, still="fast",
                          report=tmp_path / "fast.csv")
    cascade = run_prediction(str(folder.parent), model=target, out=StringIO(), progress=False,
                             report=tmp_path / "cascade.csv")
    assert fast.items == cascade.items == 4
    assert fast.escalated == 0 and cascade.escalated == 4
    assert cascade.score is not None and cascade.score.n == 4


def test_the_bundle_threshold_is_used_when_no_conf_is_given(bundle_dir, tmp_path, images, capsys):
    from fingerspell.cli import main

    strict = bundle_with(bundle_dir, tmp_path, threshold=0.999, escalate_below=0.0)
    withheld = 0
    with Predictor(strict) as default, Predictor(strict, conf=0.0) as given:
        assert default.threshold == 0.999 and given.threshold == 0.0
        for image in images:
            a, b = default.predict_image(image), given.predict_image(image)
            assert b.letter == b.top5[0][0]  # conf 0: always a letter
            assert a.letter == (b.letter if b.top5[0][1] >= 0.999 else None)
            withheld += a.letter is None
    assert withheld >= 1  # the model is not 99.9% sure of every one of these photos
    path = tmp_path / "photo.jpg"
    import cv2

    cv2.imwrite(str(path), cv2.cvtColor(images[1], cv2.COLOR_RGB2BGR))
    main(["predict", str(path), "--model", str(strict), "--json"])
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert (record["letter"] is None) == (record["top5"][0][1] < 0.999)
    main(["predict", str(path), "--model", str(strict), "--json", "--conf", "0"])
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert record["letter"] == record["top5"][0][0]


@pytest.mark.parametrize("still", [{"threshold": 2}, {"escalate_below": "high"}, {"temperature_fast": 0}])
def test_bad_still_settings_are_one_clear_error(bundle_dir, tmp_path, still):
    with pytest.raises(BundleError, match="still"):
        Predictor(bundle_with(bundle_dir, tmp_path, **still))
