"""Benchmark: how many hands `HandDetector` finds on each shared dataset, and how fast.

Reads the shared datasets in place (no import needed), runs the detector over every image
(or a per-dataset sample with --limit) and prints, per dataset, the found rate, the rate per
letter (worst first), how many hands each attempt found, and images per second. Writes
bench/results/hands.json. With --ablation it also runs every attempt on its own over the
same images, which is how the default attempt order was chosen.

    .venv/bin/python bench/bench_hands.py                       # everything, robust default
    .venv/bin/python bench/bench_hands.py --plain               # MediaPipe as is, for comparison
    .venv/bin/python bench/bench_hands.py --limit 200 --ablation --datasets massey
    .venv/bin/python bench/bench_hands.py --draw massey:pad50 --limit 100   # PNG of retries
    .venv/bin/python bench/bench_hands.py --datasets sign-mnist --read     # + letters read right

Asl-alphabet's `nothing` class has no hand: it is left out of the found rate and reported as
the false-detection rate instead. Sign-MNIST (28x28 grey) is measured on its test CSV; its
counterpart without hands, `--datasets tiny-nothing`, is 500 28x28 grey crops of rooms
(asl-alphabet `nothing` frames, asl-letters background away from the hand box) and reports how
often the small-image chain claims a hand there. `--datasets far-letters` is a signer
photographed from further away: one colour copy of each asl-letters source photo pasted at a
random place into a 4:3 frame three times as wide, over a room (an asl-alphabet `nothing` frame
scaled up), so the hand is a small part of a large image (what the detector's zoom is for;
compare with `--no-zoom`). The bundled default model was trained on asl-letters, so `--read`
there measures landmark quality, not unseen-photo accuracy.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import multiprocessing as mp
import os
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATASETS = Path(os.environ.get("FINGERSPELL_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
NO_HAND = {"nothing"}


@dataclass
class Item:
    dataset: str
    key: str          # file path, or csv:line for Sign-MNIST
    label: str
    hint: tuple[float, float, float, float] | None = None
    pixels: bytes | None = None  # 28x28 grey for Sign-MNIST
    box: tuple[float, float, float, float] | None = None  # where the hand is (far-letters), for on_hand


def list_items(name: str) -> list[Item]:
    if name == "massey":
        root = DATASETS / "massey" / "asl_dataset"
        return [Item(name, str(p), p.parent.name.upper()) for p in sorted(root.glob("*/*.jpeg"))]
    if name == "asl-alphabet":
        root = DATASETS / "asl-alphabet" / "asl_alphabet_train"
        return [Item(name, str(p), p.parent.name if p.parent.name in ("del", "nothing", "space") else p.parent.name.upper())
                for p in sorted(root.glob("*/*.jpg"))]
    if name == "asl-letters":
        boxes = asl_letters_boxes()
        images = sorted((DATASETS / "asl-letters" / "train" / "images").glob("*.jpg"))
        return [Item(name, str(p), p.name[0].upper(), boxes.get(p.name)) for p in images]
    if name == "sign-mnist":
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        items = []
        with gzip.open(DATASETS / "sign-mnist" / "sign_mnist_test.csv.gz", "rt") as handle:
            reader = csv.reader(handle)
            next(reader)
            for line, row in enumerate(reader, start=2):
                items.append(Item(name, f"sign_mnist_test.csv:{line}", letters[int(row[0])],
                                  pixels=np.array(row[1:], dtype=np.uint8).tobytes()))
        return items
    if name == "tiny-nothing":
        return tiny_nothing_items()
    if name == "far-letters":
        return far_letters_items()
    raise SystemExit(f"unknown dataset {name!r}")


def asl_letters_boxes() -> dict[str, tuple[float, float, float, float]]:
    """asl-letters' annotated hand box per image file name: (xmin, ymin, xmax, ymax) pixels."""
    boxes: dict[str, tuple[float, float, float, float]] = {}
    with open(DATASETS / "asl-letters" / "train" / "_annotations.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            boxes[row["filename"]] = tuple(float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))  # type: ignore[assignment]
    return boxes


def tiny_nothing_items(count: int = 500, seed: int = 0) -> list[Item]:
    """28x28 grey images WITHOUT a hand, the size of Sign-MNIST's crops (which get the detector's
    small-image chain): asl-alphabet's `nothing` frames shrunk, and patches of asl-letters photos
    that do not overlap the annotated hand box. All labelled `nothing`: false detections."""
    import cv2

    rng = random.Random(seed)
    items = []
    for path in sorted((DATASETS / "asl-alphabet" / "asl_alphabet_train" / "nothing").glob("*.jpg"))[: count // 2]:
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if grey is not None:
            tiny = cv2.resize(grey, (28, 28), interpolation=cv2.INTER_AREA)
            items.append(Item("tiny-nothing", f"{path.name}@28", "nothing", pixels=tiny.tobytes()))
    boxes = sorted(asl_letters_boxes().items())
    rng.shuffle(boxes)
    for filename, (x0, y0, x1, y1) in boxes:
        if len(items) >= count:
            break
        grey = cv2.imread(str(DATASETS / "asl-letters" / "train" / "images" / filename), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            continue
        h, w = grey.shape
        for _ in range(20):  # a few random squares; the first clear of the hand box is kept
            side = rng.randint(min(h, w) // 4, min(h, w) // 2)
            x, y = rng.randint(0, w - side), rng.randint(0, h - side)
            if x + side < x0 or x > x1 or y + side < y0 or y > y1:
                tiny = cv2.resize(grey[y:y + side, x:x + side], (28, 28), interpolation=cv2.INTER_AREA)
                items.append(Item("tiny-nothing", f"{filename}@{x},{y},{side}", "nothing", pixels=tiny.tobytes()))
                break
    return items


FAR_SCALE = 3  # far-letters: frame width = this many times the photo's width


def far_frame_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) of the 4:3 far-letters frame for a photo of this size."""
    frame_w = FAR_SCALE * width
    return frame_w, max(height, frame_w * 3 // 4)


def far_letters_items(seed: int = 0) -> list[Item]:
    """One colour copy of each asl-letters source photo, to be pasted into a larger frame by
    `load_image` (key: `far:<photo>|<background>|<x>,<y>`); `box` is the hand box in the frame."""
    from fingerspell.data.images import read_image
    from fingerspell.hands.detector import is_grey

    rng = random.Random(seed)
    boxes = asl_letters_boxes()
    photos: dict[str, list[Path]] = defaultdict(list)
    for path in sorted((DATASETS / "asl-letters" / "train" / "images").glob("*.jpg")):
        photos[path.name.split("_jpg")[0]].append(path)
    rooms = sorted((DATASETS / "asl-alphabet" / "asl_alphabet_train" / "nothing").glob("*.jpg"))
    items = []
    for stem, copies in sorted(photos.items()):
        rng.shuffle(copies)
        images = {p: read_image(p) for p in copies}  # each copy read once
        colour = [p for p in copies if not is_grey(images[p])]
        path = (colour or copies)[0]
        h, w = images[path].shape[:2]
        frame_w, frame_h = far_frame_size(w, h)
        x, y = rng.randint(0, frame_w - w), rng.randint(0, frame_h - h)
        box = boxes.get(path.name)
        items.append(Item("far-letters", f"far:{path}|{rng.choice(rooms)}|{x},{y}", path.name[0].upper(),
                          box=None if box is None else (box[0] + x, box[1] + y, box[2] + x, box[3] + y)))
    return items


def load_image(item: Item) -> np.ndarray:
    from fingerspell.data.images import read_image

    if item.key.startswith("far:"):
        import cv2

        photo_path, room_path, place = item.key[4:].split("|")
        photo = read_image(photo_path)
        x, y = (int(v) for v in place.split(","))
        h, w = photo.shape[:2]
        frame = cv2.resize(read_image(room_path), far_frame_size(w, h), interpolation=cv2.INTER_CUBIC)
        frame[y:y + h, x:x + w] = photo
        return frame
    if item.pixels is not None:
        return np.frombuffer(item.pixels, dtype=np.uint8).reshape(28, 28)
    return read_image(item.key)


_DETECTORS: dict[str, object] = {}


def on_hand(item: Item, image: np.ndarray, hand) -> bool | None:
    """Is this detection on the hand? Checkable where the data says where the hand is:
    Massey (hand segmented on black: >= 80% of landmarks on non-black pixels) and
    asl-letters (landmark centre inside the annotated box grown by 20%). None elsewhere."""
    import cv2

    h, w = image.shape[:2]
    if item.dataset == "massey":
        mask = cv2.dilate((image.max(axis=2) > 30).astype(np.uint8), np.ones((15, 15), np.uint8))
        px = np.clip(np.round(hand.pixels(w, h)).astype(int), 0, [w - 1, h - 1])
        return bool(mask[px[:, 1], px[:, 0]].mean() >= 0.8)
    known = item.box if item.box is not None else item.hint
    if item.dataset in ("asl-letters", "far-letters") and known is not None:
        xmin, ymin, xmax, ymax = known
        mx, my = 0.2 * (xmax - xmin), 0.2 * (ymax - ymin)
        cx, cy = hand.landmarks[:, 0].mean() * w, hand.landmarks[:, 1].mean() * h
        return bool(xmin - mx <= cx <= xmax + mx and ymin - my <= cy <= ymax + my)
    return None


def _worker_init(settings: dict) -> None:
    from fingerspell.hands import HandDetector

    _DETECTORS["main"] = HandDetector(**settings["detector"])
    if settings.get("read"):
        import onnxruntime as ort

        from fingerspell.export.bundle import Bundle
        from fingerspell.home import default_bundle_dir

        bundle = Bundle.load(default_bundle_dir())
        _DETECTORS["reader"] = (ort.InferenceSession(str(bundle.model_path), providers=["CPUExecutionProvider"]),
                                bundle.labels)
    _DETECTORS["ablation"] = {a: HandDetector(model_complexity=settings["detector"]["model_complexity"], attempts=[a])
                              for a in settings["ablation"]}


def _run_one(item: Item) -> dict:
    image = load_image(item)
    detector = _DETECTORS["main"]
    start = time.perf_counter()
    hand = detector.detect(image, hint_box=item.hint)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - start
    out = {"dataset": item.dataset, "key": item.key, "label": item.label, "found": hand is not None,
           "method": hand.method if hand else None, "seconds": seconds,
           "landmarks": hand.landmarks.tolist() if hand else None,
           "on_hand": on_hand(item, image, hand) if hand else None}
    out["read_right"] = read_letter(hand, image, item.label) if hand and "reader" in _DETECTORS else None
    ablation = {}
    for name, single in _DETECTORS["ablation"].items():  # type: ignore[union-attr]
        ablation[name] = single.detect(image, hint_box=item.hint) is not None
    out["ablation"] = ablation
    return out


def read_letter(hand, image: np.ndarray, label: str) -> bool | None:
    """--read: does the bundled default model read the right letter from these landmarks?
    (None for classes the model does not have.) A check of the landmarks' quality."""
    from fingerspell.hands.features import landmark_features

    session, labels = _DETECTORS["reader"]  # type: ignore[misc]
    if label not in labels:
        return None
    h, w = image.shape[:2]
    features = landmark_features(hand.landmarks, hand.handedness, (w, h))[None]
    logits = session.run(None, {session.get_inputs()[0].name: features})[0]
    return labels[int(np.argmax(logits))] == label


def summarise(results: list[dict]) -> dict:
    hands = [r for r in results if r["label"] not in NO_HAND]
    empty = [r for r in results if r["label"] in NO_HAND]
    per_letter: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in hands:
        per_letter[r["label"]][0] += r["found"]
        per_letter[r["label"]][1] += 1
    found = sum(r["found"] for r in hands)
    seconds = sum(r["seconds"] for r in results)
    ablation: Counter = Counter()
    for r in hands:
        for name, ok in r["ablation"].items():
            ablation[name] += ok
    checked = [r for r in hands if r["found"] and r["on_hand"] is not None]
    off_by_method = Counter(r["method"] for r in checked if not r["on_hand"])
    from fingerspell.hands.detector import FAST_ATTEMPTS

    read: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in hands:
        if r.get("read_right") is not None:
            for key in ("all", r["method"]):
                read[key][0] += r["read_right"]
                read[key][1] += 1
    return {
        "images": len(hands),
        "rate_fast_attempts": sum(str(r["method"]).removeprefix("zoom-") in FAST_ATTEMPTS for r in hands) / len(hands) if hands else None,
        "checked_on_hand": len(checked),
        "off_hand": sum(off_by_method.values()),
        "off_hand_by_method": dict(off_by_method),
        "found": found,
        "rate": found / len(hands) if hands else None,
        "per_letter": {k: {"found": v[0], "images": v[1], "rate": v[0] / v[1]} for k, v in sorted(per_letter.items())},
        "methods": dict(Counter(r["method"] for r in hands if r["found"]).most_common()),
        "images_per_second": len(results) / seconds if seconds else None,
        "ms_per_image": 1000 * seconds / len(results) if results else None,
        "no_hand_images": len(empty),
        "false_detections": sum(r["found"] for r in empty),
        "false_methods": dict(Counter(r["method"] for r in empty if r["found"]).most_common()),
        "ablation_rate": {k: ablation[k] / len(hands) for k in sorted(ablation)} if hands else {},
        "read_right": {k: {"right": v[0], "hands": v[1], "rate": v[0] / v[1]} for k, v in read.items()},
    }


def draw_sheet(results: list[dict], selector: str, path: Path, items: dict[str, Item], limit: int = 24) -> None:
    """A contact sheet of detections found by one attempt (`dataset:method`), to eyeball."""
    import cv2

    from fingerspell.hands import Hand
    from fingerspell.hands.draw import draw_hand

    dataset, method = selector.split(":", 1)
    if method == "off":  # detections the on-hand check flagged
        chosen = [r for r in results if r["dataset"] == dataset and r["on_hand"] is False][:limit]
    else:
        chosen = [r for r in results if r["dataset"] == dataset and r["method"] == method][:limit]
    if not chosen:
        print(f"draw: no detections by {method} in {dataset}")
        return
    tiles = []
    for r in chosen:
        image = load_image(items[r["key"]])
        if image.ndim == 2:
            image = cv2.cvtColor(cv2.resize(image, (200, 200), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2RGB)
        h, w = image.shape[:2]
        points = np.array(r["landmarks"], dtype=np.float32)
        px = points[:, :2] * [w, h]
        hand = Hand(points, None, "?", 0.0, (px[:, 0].min(), px[:, 1].min(), px[:, 0].max(), px[:, 1].max()), r["method"])
        tile = cv2.resize(draw_hand(image, hand), (200, 200))
        cv2.putText(tile, r["label"], (5, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2)
        tiles.append(tile)
    cols = 6
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    print(f"draw: wrote {path} ({len(chosen)} detections by {method})")


def bench_video(frames: int = 120) -> dict:
    """ms per 640x480 frame in video (tracking) mode, hand moving across the frame."""
    import cv2

    from fingerspell.hands import HandDetector

    folder = DATASETS / "asl-alphabet" / "asl_alphabet_train" / "B"
    sources = [load_image(Item("asl-alphabet", str(p), "B")) for p in sorted(folder.glob("*.jpg"))[:frames]]
    out = {}
    for complexity in (0, 1):
        with HandDetector(mode="video", model_complexity=complexity) as detector:
            found, seconds = 0, 0.0
            for i, source in enumerate(sources):
                frame = np.zeros((480, 640, 3), np.uint8)
                x = 20 + (i * 3) % 300
                frame[140:440, x:x + 300] = cv2.resize(source, (300, 300))
                start = time.perf_counter()
                found += detector.detect(frame) is not None
                if i >= 5:  # the first frames include graph start-up
                    seconds += time.perf_counter() - start
            out[f"complexity{complexity}"] = {"frames": len(sources), "found": found,
                                              "ms_per_frame": 1000 * seconds / max(1, len(sources) - 5)}
    return out


def main() -> int:
    from fingerspell.hands.detector import FAST_ATTEMPTS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="massey,asl-letters,asl-alphabet,sign-mnist,tiny-nothing,far-letters",
                        help="comma-separated; NAME:N takes N random images of that one")
    parser.add_argument("--limit", type=int, default=0, help="random images per dataset (0 = all)")
    parser.add_argument("--plain", action="store_true",
                        help="MediaPipe as is: no retries, no grey tint, no refinement")
    parser.add_argument("--no-hint", action="store_true", help="do not pass asl-letters' boxes as hints")
    parser.add_argument("--no-zoom", action="store_true", help="no second look at hands small in the frame")
    parser.add_argument("--attempts", default=None, help="comma-separated attempt order (default: the detector's)")
    parser.add_argument("--complexity", type=int, default=1)
    parser.add_argument("--confidence", type=float, default=0.5)
    parser.add_argument("--ablation", default="", help="comma-separated attempts to run alone on every image")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draw", action="append", default=[], help="dataset:method contact sheet PNG")
    parser.add_argument("--read", action="store_true",
                        help="also read each found hand's letter with the bundled default model (landmark quality)")
    parser.add_argument("--video", action="store_true", help="also time video (tracking) mode at 640x480")
    parser.add_argument("--keys", default=None, help="only the images listed in this file (a misses.txt)")
    parser.add_argument("--dump", default=None, help="write one JSON line per image here (for analysis)")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "hands.json"))
    args = parser.parse_args()

    detector: dict = {"model_complexity": args.complexity, "min_detection_confidence": args.confidence,
                      "robust": not args.plain}
    if args.plain:
        detector.update(refine_steps=0, tint_grey=False, zoom=0)
    if args.no_zoom:
        detector["zoom"] = 0
    if args.attempts:
        detector["attempts"] = args.attempts.split(",")
    settings = {"detector": detector, "ablation": [a for a in args.ablation.split(",") if a], "read": args.read}
    rng = random.Random(args.seed)
    items: list[Item] = []
    wanted = None
    if args.keys:
        wanted = {line.split("\t")[-1] for line in Path(args.keys).read_text().splitlines() if line.strip()}
    names = []
    for spec in args.datasets.split(","):
        name, _, own_limit = spec.partition(":")  # `sign-mnist:600`: a limit for that one
        names.append(name)
        limit = int(own_limit) if own_limit else args.limit
        listed = list_items(name)
        if wanted is not None:
            listed = [item for item in listed if item.key in wanted]
        if limit and len(listed) > limit:
            listed = rng.sample(listed, limit)
        if args.no_hint:
            for item in listed:
                item.hint = None
        items.extend(listed)

    from tqdm import tqdm

    start = time.perf_counter()
    if args.workers > 1:
        with mp.get_context("spawn").Pool(args.workers, initializer=_worker_init, initargs=(settings,)) as pool:
            results = list(tqdm(pool.imap(_run_one, items, chunksize=8), total=len(items), desc="hands"))
    else:
        _worker_init(settings)
        results = [_run_one(item) for item in tqdm(items, desc="hands")]
    wall = time.perf_counter() - start

    report: dict = {"settings": settings, "limit": args.limit, "wall_seconds": wall,
                    "images_per_second_wall": len(items) / wall, "datasets": {}}
    for name in names:
        summary = summarise([r for r in results if r["dataset"] == name])
        report["datasets"][name] = summary
        rate = summary["rate"]
        if rate is None:  # only images without a hand (tiny-nothing)
            print(f"\n{name}: a hand reported in {summary['false_detections']}/{summary['no_hand_images']} images "
                  f"without one ({summary['ms_per_image']:.1f} ms/image); by: {summary['false_methods']}")
            continue
        print(f"\n{name}: {summary['found']}/{summary['images']} hands found = {100 * rate:.2f}%  "
              f"({summary['ms_per_image']:.1f} ms/image, {summary['images_per_second']:.1f} images/s per worker)")
        if summary["rate_fast_attempts"]:  # (tiny images have their own chain: never these)
            print(f"  with FAST_ATTEMPTS only (first {len(FAST_ATTEMPTS)} attempts) it would be "
                  f"{100 * summary['rate_fast_attempts']:.2f}%")
        if summary["no_hand_images"]:
            print(f"  'nothing' images with a hand reported: {summary['false_detections']}/{summary['no_hand_images']}")
        worst = sorted(summary["per_letter"].items(), key=lambda kv: kv[1]["rate"])[:6]
        print("  worst letters: " + ", ".join(f"{k} {100 * v['rate']:.1f}% ({v['found']}/{v['images']})" for k, v in worst))
        print("  found by: " + ", ".join(f"{k} {v}" for k, v in summary["methods"].items()))
        if summary["read_right"]:
            by = summary["read_right"]
            print(f"  letter read right by the default model: {100 * by['all']['rate']:.1f}% of {by['all']['hands']} "
                  "found hands; by attempt: " + ", ".join(f"{k} {100 * v['rate']:.0f}% ({v['hands']})"
                                                          for k, v in by.items() if k != "all"))
        if summary["checked_on_hand"]:
            print(f"  landmarks off the hand: {summary['off_hand']}/{summary['checked_on_hand']} checked "
                  + (str(summary["off_hand_by_method"]) if summary["off_hand"] else ""))
        if summary["ablation_rate"]:
            print("  each attempt alone: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in summary["ablation_rate"].items()))
    print(f"\nall: {len(items)} images in {wall:.0f} s = {len(items) / wall:.1f} images/s with {args.workers} worker(s)")
    from fingerspell.atomic import write_json

    write_json(args.out, report)  # before the optional parts, so a failure there loses nothing
    if args.video:
        report["video"] = bench_video()
        for k, v in report["video"].items():
            print(f"video mode {k}: {v['ms_per_frame']:.1f} ms per 640x480 frame, hand found in {v['found']}/{v['frames']}")
        write_json(args.out, report)
    if args.dump:
        with open(args.dump, "w") as handle:
            for r in results:
                handle.write(json.dumps(r) + "\n")
    print(f"wrote {args.out}")
    misses = Path(args.out).with_suffix(".misses.txt")
    misses.write_text("\n".join(f"{r['dataset']}\t{r['label']}\t{r['key']}" for r in results
                                if not r["found"] and r["label"] not in NO_HAND) + "\n")
    for selector in args.draw:
        draw_sheet(results, selector, Path(args.out).parent / f"hands-{selector.replace(':', '-')}.png",
                   {item.key: item for item in items})
    return 0


if __name__ == "__main__":
    sys.exit(main())
