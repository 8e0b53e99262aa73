"""The examples run as documented, and the code of the README's "From
Python" section runs as it is."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def test_digits_example(tmp_path):
    p = subprocess.run(
        [sys.executable, str(ROOT / "python/examples/digits.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["dam_accuracy"] > 0.9, summary
    assert summary["sklearn_accuracy"] > 0.9, summary
    assert summary["exported"] == ["digits.c", "digits.h"]
    assert "digits_classify" in (tmp_path / "digits.h").read_text()
    assert summary["completion_ok"]
    for figure in summary["figures"]:
        data = Path(figure).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 2000, figure


def python_blocks(markdown: Path):
    return re.findall(r"```python\n(.*?)```", markdown.read_text(), re.S)


def test_readme_from_python_runs(tmp_path):
    """Every ```python block of the README's "From Python" section and of
    python/README.md, run from a copy of the data (the blocks write
    files, e.g. digits.dam, into the working directory)."""
    (tmp_path / "data").symlink_to(ROOT / "data")
    blocks = []
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## From Python", 1)[1].split("\n## ", 1)[0]
    blocks += re.findall(r"```python\n(.*?)```", section, re.S)
    blocks += python_blocks(ROOT / "python/README.md")
    assert len(blocks) >= 3, len(blocks)
    for code in blocks:
        p = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert p.returncode == 0, f"{code}\n{p.stderr}"
    assert np.load(tmp_path / "data/digits/digits.npz")["x_train"].size > 0
