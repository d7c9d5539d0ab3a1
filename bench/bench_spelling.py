"""Benchmark: spelling continuous fingerspelling streams assembled from real landmarks.

    .venv/bin/python bench/bench_spelling.py                  # report split, rules before + after
    .venv/bin/python bench/bench_spelling.py --split tune     # the split the parameters were tuned on
    .venv/bin/python bench/bench_spelling.py --held-out       # classifiers that never saw the stream's signer

The dev set (`fingerspell.infer.spelling_data`): real asl-landmarks takes (one signer, webcam
frames, J and Z with their movement) and real Massey photos' landmarks held with drift and
jitter, joined by transitions, bounces for real double letters and gaps between words, at
30 fps. Tune and report never share material: takes 1-2 of each letter and Massey signers
hand1-hand2 are the tune split; takes 3-4 and hand3-hand4 the report split; word lists differ.
The probabilities come from the bundle's ONNX model on each frame's landmark features
(softmax(logits / T), T from bundle.json "calibration"; the "before" rules used T = 1). The
shipped model was trained on all of these photos and takes, so the numbers measure the rules
given a strong classifier; the calibration (bench/train_spelling.py) is what was fitted on
held-out signers.

Metrics: character error rate on words, share of single-letter clips spelled exactly, spurious
commits per minute on long holds (any commit after the first), frames from a hold's start to its
commit (30 fps), J/Z accuracy (single J and Z clips). Writes bench/results/spelling.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
DATASETS = Path(os.environ.get("FINGERSPELL_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
STATIC = "ABCDEFGHIKLMNOPQRSTUVWXY"
SPLITS = {
    "tune": {"takes": (0, 2), "signers": ("hand1", "hand2"),
             "words": ["HELLO", "BOOK", "JUMP", "ZERO", "GOOD", "FISH", "WATER", "APPLE", "CAT", "DOG", "MILK",
                       "QUIZ", "JOY", "SLEEP", "YES", "NO", "THANK", "YOU", "FRIEND", "LAZY"]},
    "report": {"takes": (2, 4), "signers": ("hand3", "hand4"),
               "words": ["ARE", "COFFEE", "PIZZA", "JAZZ", "LETTER", "MISS", "TREE", "BALL", "HOUSE", "MOTHER",
                         "JUICE", "WORK", "PLEASE", "HELP", "BLUE", "SCHOOL", "ZOO", "JOB", "QUICK", "VERY"]},
}


from fingerspell.infer.spelling_data import LandmarkModel as Model  # noqa: E402


def run_new(labels: list[str], frames: list[dict[str, Any]], probs: list, params: dict[str, Any] | None):
    """The rules of fingerspell.infer.spelling: (text, commit frames, stable letters)."""
    from fingerspell.infer.spelling import Spelling

    speller = Spelling(labels, params)
    letters = []
    for i, (frame, p) in enumerate(zip(frames, probs)):
        step = speller.push(frame["t"], p, frame["landmarks"], frame["handedness"], frame["size"], frame=i)
        letters.append(step.letter)
    return speller.text, [(c.frame, c.letter, c.kind) for c in speller.commits], letters


def run_old(labels: list[str], frames: list[dict[str, Any]], probs: list, params: Any = None):
    """The rules before issue 13 (smoothing.LetterSmoother + speller.Speller, frame counts at 30 fps)."""
    from fingerspell.infer.smoothing import LetterSmoother
    from fingerspell.infer.speller import Speller

    smoother, speller = LetterSmoother(labels, enter=0.5), Speller(space_after=15)
    letters = []
    for i, (frame, p) in enumerate(zip(frames, probs)):
        box = None
        if frame["landmarks"] is not None:
            pts = np.asarray(frame["landmarks"])[:, :2] * frame["size"]
            box = (*pts.min(axis=0), *pts.max(axis=0))
        state = smoother.update(None if p is None else np.asarray(p))
        speller.update(state, box, i, frame["t"])
        letters.append(state.letter)
    return speller.text, [(c.frame, c.letter, c.kind) for c in speller.commits], letters


def build_devset(split: str, takes: dict, poses: list, seed: int = 0) -> dict[str, list]:
    """{"single": [...], "motion": [...], "hold": [...], "word": [...]} of (Stream, expected text)."""
    from fingerspell.infer.spelling_data import Stream, photo_pose

    cfg = SPLITS[split]
    lo, hi = cfg["takes"]
    mine = {letter: parts[lo:hi] for letter, parts in takes.items()}
    by_signer: dict[str, dict[str, list]] = {}
    for pose in poses:
        if pose.signer in cfg["signers"]:
            by_signer.setdefault(pose.signer, {}).setdefault(pose.letter, []).append(pose)
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {"single": [], "motion": [], "hold": [], "word": []}
    n = 0

    def stream() -> Stream:
        nonlocal n
        n += 1
        return Stream(seed=seed * 100000 + n)

    for letter in STATIC:
        for part in mine[letter]:
            s = stream()
            s.gap(0.5)
            s.take(part, letter, seconds=float(rng.uniform(0.6, 1.5)))
            s.gap(0.5)
            s.words.append(letter)
            s.source = "asl-landmarks"
            out["single"].append(s)
            s = stream()
            s.take(part, letter)  # the whole take: 2.5-4 s of a real held letter
            s.words.append(letter)
            s.source = "asl-landmarks"
            out["hold"].append(s)
        for signer, letters in sorted(by_signer.items()):
            for pose in letters.get(letter, [])[:2]:
                s = stream()
                s.gap(0.5)
                s.pose(photo_pose(pose.landmarks, pose.image_size, s.rng), letter, float(rng.uniform(0.6, 1.5)))
                s.gap(0.5)
                s.words.append(letter)
                s.source = pose.path
                out["single"].append(s)
            pose = letters.get(letter, [None])[0]
            if pose is not None:
                s = stream()
                s.pose(photo_pose(pose.landmarks, pose.image_size, s.rng), letter, 4.0)
                s.words.append(letter)
                s.source = pose.path
                out["hold"].append(s)
    for letter in "JZ":
        for part in mine[letter]:
            for start in (0, max(0, len(part) - 45)):
                s = stream()
                s.gap(0.5)
                s.take(part, letter, seconds=1.5, start=start)
                s.gap(0.5)
                s.words.append(letter)
                s.source = "asl-landmarks"
                out["motion"].append(s)
    words = cfg["words"]
    for k in range(0, len(words), 2):
        s = stream()
        for word in words[k:k + 2]:
            spell_word(s, word, mine, rng)
            s.gap(float(rng.uniform(0.6, 1.0)))
        s.source = "asl-landmarks"
        out["word"].append(s)
    for signer, letters in sorted(by_signer.items()):  # words from one signer's photos (static letters)
        for word in words:
            if all(c in letters for c in word):
                s = stream()
                spell_word(s, word, None, rng, photos=letters)
                s.gap(0.6)
                s.source = f"massey {signer}"
                out["word"].append(s)
    return out


def spell_word(s: Any, word: str, takes: dict | None, rng: np.random.Generator, photos: dict | None = None) -> None:
    """Append one word: holds of 0.4-1.2 s, J/Z as 1.2 s of their real movement, a bounce
    between double letters (after which the same take, or the same photo, goes on: a bounce
    brings the hand back to where it was)."""
    from fingerspell.infer.spelling_data import TAKE_FPS, photo_pose

    placed = None
    for i, letter in enumerate(word):
        double = i > 0 and word[i - 1] == letter
        seconds = float(rng.uniform(0.4, 1.2))
        if double and letter not in "JZ":
            s.bounce(float(rng.uniform(0.2, 0.35)), float(rng.uniform(0.4, 0.8)), axis=int(rng.integers(2)))
            if photos is not None:
                s.pose(s._last, letter, seconds)
            else:  # the bounce returns to where the hand was: the same take goes on
                need = min(len(part), max(2, round(seconds * TAKE_FPS)))
                s.take(part, letter, seconds=seconds, start=max(0, min(s.take_end, len(part) - need)))
            continue
        if photos is not None:
            pose = photos[letter][int(rng.integers(len(photos[letter])))]
            placed = photo_pose(pose.landmarks, pose.image_size, s.rng) if placed is None else _near(photo_pose(pose.landmarks, pose.image_size, s.rng), s._last)
            s.pose(placed, letter, seconds)
        else:
            part = takes[letter][int(rng.integers(len(takes[letter])))]
            if letter in "JZ":
                s.take(part, letter, seconds=1.2, start=int(rng.integers(0, max(1, len(part) - 36))))
            else:
                s.take(part, letter, seconds=seconds)
    s.words.append(word)


def _near(points: np.ndarray, last: np.ndarray | None) -> np.ndarray:
    """The pose moved so its centre is where the last hand was (consecutive letters of a word)."""
    if last is None:
        return points
    out = points.copy()
    out[:, :2] += last[:, :2].mean(axis=0) - points[:, :2].mean(axis=0)
    return out


def material(s: Any) -> str:
    """Where a stream's landmarks come from: "asl-landmarks" (webcam takes) or "massey" (photos)."""
    return "asl-landmarks" if s.source == "asl-landmarks" else "massey"


def evaluate(devset: dict[str, list], model: Model, rules: str, params: dict[str, Any] | None = None,
             temperature: float | None = None, held_out: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metrics of one set of rules on a dev set. With `held_out` ({material: model}), each
    stream is scored by the classifier that never saw its signer (and that model's T)."""
    from fingerspell.infer.spelling_data import edit_distance

    run = run_new if rules == "after" else run_old
    cache: dict[int, list] = {}

    def go(s: Any) -> tuple[str, list, list]:
        m = model if held_out is None else held_out[material(s)]
        if id(s) not in cache:
            temp = temperature if temperature is not None else (m.temperature if rules == "after" else 1.0)
            cache[id(s)] = m.probabilities(s.frames, temp)
        return run(m.labels, s.frames, cache[id(s)], params)

    single = [go(s)[0] == s.text for s in devset["single"]]
    motion = [go(s)[0] == s.text for s in devset["motion"]]
    spurious, minutes, hold_failures = 0, 0.0, []
    by_source: dict[str, list[float]] = {}
    for s in devset["hold"]:
        text, commits, _ = go(s)
        spurious += max(0, len(commits) - 1)
        source = material(s)
        by_source.setdefault(source, [0.0, 0.0])
        by_source[source][0] += max(0, len(commits) - 1)
        by_source[source][1] += len(s.frames) / s.fps / 60
        if len(commits) > 1:
            hold_failures.append(f"{s.text}->{text} ({s.source})")
        minutes += len(s.frames) / s.fps / 60
    errors, chars, delays, exact, failures = 0, 0, [], 0, []
    for s in devset["word"]:
        text, commits, _ = go(s)
        errors += edit_distance(text, s.text)
        chars += len(s.text)
        exact += text == s.text
        if text != s.text:
            failures.append(f"{s.text} -> {text}")
        for first, end, letter in s.holds:
            hit = next((f for f, c, k in commits if first <= f < end + 12 and c == letter), None)
            if hit is not None:
                delays.append(hit - first)
    wrong_singles = [f"{s.text}->{go(s)[0] or '-'}" for s, ok in zip(devset["single"], single) if not ok]
    return {
        "word_cer": round(errors / max(chars, 1), 4),
        "words_exact": round(exact / max(len(devset["word"]), 1), 4),
        "single_exact": round(float(np.mean(single)), 4),
        "spurious_per_minute": round(spurious / max(minutes, 1e-9), 3),
        "hold_minutes": round(minutes, 2),
        "spurious_per_minute_by_source": {k: round(n / max(m, 1e-9), 3) for k, (n, m) in by_source.items()},
        "commit_delay_frames": {"median": float(np.median(delays)) if delays else None,
                                "p90": float(np.percentile(delays, 90)) if delays else None},
        "jz_accuracy": round(float(np.mean(motion)), 4) if motion else None,
        "counts": {k: len(v) for k, v in devset.items()},
        "wrong_singles": wrong_singles[:30],
        "word_failures": failures[:20],
        "hold_failures": hold_failures[:20],
    }


def load_sources(cache: Path) -> tuple[dict, list]:
    from fingerspell.infer.spelling_data import landmark_takes, massey_poses

    takes = landmark_takes(DATASETS / "asl-landmarks" / "landmarks.npz")
    poses = massey_poses(DATASETS / "massey" / "asl_dataset", STATIC, ("hand1", "hand2", "hand3", "hand4"), 3,
                         cache=cache / "massey-poses.npz")
    return takes, poses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Spelling rules on continuous streams of real landmarks.")
    parser.add_argument("--model", type=Path, default=REPO / "src" / "fingerspell" / "models" / "default")
    parser.add_argument("--split", choices=sorted(SPLITS), default="report")
    parser.add_argument("--rules", choices=["before", "after", "both"], default="both")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON to write (default bench/results/spelling.json, spelling-held-out.json with --held-out)")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "results" / "cache")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one of the bundle's spelling parameters for the 'after' rules (tuning)")
    parser.add_argument("--held-out", action="store_true",
                        help="score each stream with a classifier trained without its signer (bench/spelling_held_out.py)")
    args = parser.parse_args(argv)
    from fingerspell.atomic import write_json

    if args.out is None:
        args.out = REPO / "bench" / "results" / ("spelling-held-out.json" if args.held_out else "spelling.json")

    started = time.time()
    model = Model(args.model)
    takes, poses = load_sources(args.cache)
    devset = build_devset(args.split, takes, poses)
    params = dict(model.bundle.extra.get("spelling") or {})
    for item in args.set:
        key, _, value = item.partition("=")
        params[key] = json.loads(value)
    results: dict[str, Any] = {"split": args.split, "bundle": str(args.model), "temperature": model.temperature,
                               "fps": 30, "overrides": args.set}
    held_out = None
    if args.held_out:
        from spelling_held_out import held_out_models

        held_out = held_out_models(model.labels, DATASETS / "asl-landmarks" / "landmarks.npz", poses, args.cache)
        results["held_out"] = {k: {"trained": m.trained_on, "temperature": round(m.temperature, 4)}
                               for k, m in held_out.items()}
    for rules in (["before", "after"] if args.rules == "both" else [args.rules]):
        results[rules] = evaluate(devset, model, rules, params if rules == "after" else None, held_out=held_out)
        r = results[rules]
        print(f"{rules:6s} word CER {r['word_cer']:.1%}  words exact {r['words_exact']:.0%}  "
              f"single letters exact {r['single_exact']:.1%}  spurious/min {r['spurious_per_minute']:.2f}  "
              f"delay median {r['commit_delay_frames']['median']} frames  J/Z {r['jz_accuracy']:.0%}")
    results["seconds"] = round(time.time() - started, 1)
    write_json(args.out, results)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
