"""Every code sample of docs/plugin-guide.md runs (issue 12, item 8).

Python blocks marked ``<!-- example: PATH -->`` must be the file at PATH,
verbatim (those files are installed and run by the tests); every other
Python block is executed, in order, in one namespace, as a reader would
paste them; TOML blocks must parse. The example's own test file runs under
pytest with the kit's fixtures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugin-guide.md"
EXAMPLES = ROOT / "docs" / "examples"
_BLOCK = re.compile(
    r"(?:<!-- example: (?P<path>\S+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)^```", re.S | re.M
)


def _blocks() -> list[tuple[str, str, str | None]]:
    text = GUIDE.read_text(encoding="utf-8")
    return [(m["lang"], m["code"], m["path"]) for m in _BLOCK.finditer(text)]


def test_the_readme_links_the_guide() -> None:
    assert "(docs/plugin-guide.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_included_examples_are_the_files_verbatim() -> None:
    included = [(code, path) for lang, code, path in _blocks() if path]
    assert {path for _, path in included} == {
        "docs/examples/navi_sentry.py",
        "docs/examples/test_navi_sentry.py",
    }
    for code, path in included:
        assert code == (ROOT / path).read_text(encoding="utf-8"), f"{path} differs from the guide"


def test_every_python_sample_runs(navi_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name in [n for n in os.environ if n.endswith("_URL") and n.startswith("NAVI_")]:
        monkeypatch.delenv(name)
    samples = [code for lang, code, path in _blocks() if lang == "python" and not path]
    assert len(samples) >= 7
    namespace: dict[str, object] = {"__name__": "guide"}
    for n, code in enumerate(samples, 1):
        exec(compile(code, f"{GUIDE.name}:python-block-{n}", "exec"), namespace)


def test_toml_samples_parse() -> None:
    import tomllib

    for lang, code, _ in _blocks():
        if lang == "toml":
            tomllib.loads(code)


def test_the_example_s_tests_pass_with_the_kit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAVI_")}
    env["PYTHONPATH"] = str(EXAMPLES)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(EXAMPLES / "test_navi_sentry.py"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 passed" in out.stdout
