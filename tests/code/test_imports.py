"""Every module imports on its own, and the package's modules form no import cycle."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.code.import_graph import cycles, import_graph, module_names

SRC = Path(__file__).resolve().parents[2] / "src"
# Layers from the bottom up (docs/ARCHITECTURE.md); a module may import its own layer and lower.
LAYERS = ["data", "hands", "models", "train", "evaluate", "export", "infer", "web", "cli"]


def test_the_package_has_no_import_cycles():
    graph = import_graph(SRC)
    assert len(graph) > 50  # the whole package was read
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle(tmp_path):
    # The check itself must be able to fail: two modules importing each other, one lazily.
    package = tmp_path / "fingerspell"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from fingerspell.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from fingerspell import a\n")
    assert cycles(import_graph(tmp_path)) == [["fingerspell.a", "fingerspell.b"]]


def test_no_layer_imports_a_higher_one():
    graph = import_graph(SRC)

    def layer(module: str) -> int | None:
        parts = module.split(".")
        return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None

    upward = [(a, b) for a, targets in graph.items() for b in targets
              if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)]
    assert upward == []


def test_every_module_imports_in_a_fresh_interpreter():
    # __main__ runs the command line when imported; every other module must import cleanly.
    names = sorted(n for n in module_names(SRC) if not n.endswith(".__main__"))
    # One interpreter imports them one by one and reports the first that fails (a renamed
    # module, a missing name): one process keeps this to seconds.
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        print(f'{name}: {type(exc).__name__}: {exc}')\n"
        "        sys.exit(1)\n"
        "    print('imported', name)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split().count("imported") == len(names) > 80
