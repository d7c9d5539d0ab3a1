"""The public API: real return types, no name hidden by a subpackage, import stays light."""
from __future__ import annotations

import subprocess
import sys
import typing


def test_api_functions_return_real_types():
    import fingerspell.api as api

    for name in ("import_dataset", "split_dataset", "train_model", "resume", "evaluate_model", "export_model",
                 "load_predictor", "predict", "list_models"):
        returned = typing.get_type_hints(getattr(api, name))["return"]
        assert returned is not typing.Any, name


def test_api_names_survive_importing_every_subpackage():
    # `fingerspell.train` / `fingerspell.evaluate` are subpackages; the API's verbs must not be
    # hidden by them once they are imported (Python binds a subpackage to its parent's attribute).
    code = (
        "import fingerspell as fs, sys\n"
        "assert 'torch' not in sys.modules, 'import fingerspell loaded torch'\n"
        "import fingerspell.train.loop, fingerspell.evaluate.report, fingerspell.export.onnx, fingerspell.infer\n"
        "for name in ('import_dataset', 'split_dataset', 'train_model', 'evaluate_model', 'export_model', 'predict'):\n"
        "    assert callable(getattr(fs, name)) and not isinstance(getattr(fs, name), type(sys)), name\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
