"""`fingerspell bench accuracy`: import and extract the shared datasets, run every protocol
(`evaluate.protocols`) and the Sign-MNIST image model, write accuracy.json and accuracy.md."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fingerspell.data.index import Dataset
from fingerspell.errors import FingerspellError
from fingerspell.evaluate.accuracy_markdown import markdown_table
from fingerspell.evaluate.bench_subsets import quick_subset
from fingerspell.evaluate.landmark_fit import FULL_RECIPE, QUICK_RECIPE, Recipe
from fingerspell.evaluate.landmark_sets import STATIC_LETTERS, LandmarkSet, load_landmark_set
from fingerspell.evaluate.protocols import asl_letters_grouped, cross_dataset, massey_loso
from fingerspell.evaluate.views import TEST_VIEWS, load_views

# (index name, folder under the shared datasets root, what the folder holds)
BENCH_SOURCES = (
    ("massey", "massey/asl_dataset", "images"),
    ("asl-letters", "asl-letters", "images"),
    ("asl-alphabet", "asl-alphabet/asl_alphabet_train", "images"),
    ("asl-landmarks", "asl-landmarks/landmarks.npz", "landmarks"),
)
VIEW_SETS = ("massey", "asl-letters")  # the sets whose protocols score with test-time views


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
    # How answers are scored (the one evaluation path, `evaluate.still_metrics`): probabilities
    # softmax(logits / answer_temperature) averaged over views, a letter given at
    # >= answer_threshold. The CLI passes the default bundle's "still" settings.
    answer_temperature: float = 1.0
    answer_threshold: float = 0.5

    @property
    def effective_recipe(self) -> Recipe:
        return self.recipe or (QUICK_RECIPE if self.quick else FULL_RECIPE)


def default_data_root() -> Path:
    """`FINGERSPELL_SHARED_DATASETS`, else ../shared/datasets from the working folder."""
    import os

    env = os.environ.get("FINGERSPELL_SHARED_DATASETS")
    return Path(env) if env else Path.cwd().parent / "shared" / "datasets"


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
            path = quick_subset(name, source, home.home() / "bench-data" / index_name) if settings.quick else source
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
    t = settings.answer_temperature
    runs = [massey_loso(sets["massey"], recipe, progress=log, temperature=t),
            massey_loso(sets["massey"], recipe, extra=others, progress=log, temperature=t)]
    log("asl-letters grouped by source photo")
    runs.append(asl_letters_grouped(sets["asl-letters"], recipe, k=3 if settings.quick else 5, progress=log,
                                    temperature=t))
    runs.append(asl_letters_grouped(sets["asl-letters"], recipe, k=3 if settings.quick else 5,
                                    extra=[s for n, s in sets.items() if n != "asl-letters"], progress=log,
                                    temperature=t))
    log("cross-dataset matrix")
    runs.append(cross_dataset(sets, recipe, progress=log))
    results["answers"] = {"temperature": t, "threshold": settings.answer_threshold}
    for result in runs:
        results["protocols"][result.name] = result.to_dict()
        answers = result.score.answers(settings.answer_threshold, STATIC_LETTERS)
        if answers is not None:
            results["protocols"][result.name]["answers"] = answers.to_dict()
            log(f"{result.name}: {answers.line()}")
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
