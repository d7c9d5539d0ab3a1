"""Issue 15, case 7: `fingerspell predict` prints no MediaPipe / TensorFlow Lite log lines."""
from __future__ import annotations

import os
import re
import subprocess
import sys

# What MediaPipe 0.10.14 printed on every run before (glog / absl / TFLite).
NATIVE_LOG = re.compile(r"^(?:[IWEF]\d{4} |INFO: |WARNING: All log messages|.*inference_feedback_manager|.*XNNPACK)")


def test_predict_prints_no_native_log_lines(tmp_path, datasets_root):
    photos = sorted((datasets_root / "massey" / "asl_dataset" / "a").iterdir())[:1]
    env = {**os.environ, "FINGERSPELL_HOME": str(tmp_path / "home")}
    for var in ("GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL", "FINGERSPELL_NATIVE_LOGS"):
        env.pop(var, None)  # the quiet must not depend on the caller's environment
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "predict", str(photos[0])],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "A  0." in proc.stdout  # it did recognise the letter (so MediaPipe did run)
    noise = [line for line in proc.stderr.splitlines() if NATIVE_LOG.match(line)]
    assert noise == [], proc.stderr
    assert proc.stderr.strip() == ""


def test_native_logs_can_be_turned_back_on(tmp_path, datasets_root):
    """FINGERSPELL_NATIVE_LOGS=1 shows them (for debugging): proof the test above can fail."""
    photos = sorted((datasets_root / "massey" / "asl_dataset" / "a").iterdir())[:1]
    env = {**os.environ, "FINGERSPELL_HOME": str(tmp_path / "home"), "FINGERSPELL_NATIVE_LOGS": "1"}
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "predict", str(photos[0]), "--fast"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert any(NATIVE_LOG.match(line) for line in proc.stderr.splitlines()), proc.stderr
