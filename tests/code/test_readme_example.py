"""The README's Python API example runs as written: import -> split -> train -> evaluate ->
export -> predict, on a small copy of Massey laid out where the example looks for it."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SIGNERS = ("hand1", "hand2", "hand3", "hand4")
LETTERS = ("a", "b", "c")


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_example_runs(tmp_path, datasets_root, monkeypatch, capsys):
    import torch

    torch.set_num_threads(1)
    # ../shared/datasets/massey from the folder the example runs in: one photo per signer and letter.
    massey = tmp_path / "shared" / "datasets" / "massey" / "asl_dataset"
    for letter in LETTERS:
        (massey / letter).mkdir(parents=True)
        for signer in SIGNERS:
            photo = sorted((datasets_root / "massey" / "asl_dataset" / letter).glob(f"{signer}_*"))[0]
            shutil.copy(photo, massey / letter / photo.name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    os.environ.setdefault("GLOG_minloglevel", "2")

    code = readme_example()
    assert "import fingerspell as fs" in code and "fs.predict(" in code
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)  # the README's own text, nothing swapped

    ds, run, report, bundle, p = (scope[k] for k in ("ds", "run", "report", "bundle", "p"))
    assert ds.name == "massey" and set(ds.splits()) == {"train", "val", "test"}
    assert run.epochs_done == 5 and (run.path / "best.safetensors").is_file()
    assert report.n > 0 and 0.0 <= report.top1 <= 1.0 and (Path(report.out) / "report.json").is_file()
    assert (bundle.path / "model.onnx").is_file() and bundle.labels == ds.classes
    printed = capsys.readouterr().out
    assert str(report.top1) in printed.splitlines()
    # One printed line per photo of letter A: its letter (None = no hand or under the
    # confidence threshold) and a top-5 of letters the bundle knows.
    lines = [line for line in printed.splitlines() if "asl_dataset/a/" in line]
    assert len(lines) == len(SIGNERS)
    assert all(line.split()[1] in [*bundle.labels, "None"] for line in lines), lines
    assert all(label in bundle.labels for label, _ in p.top5)
