"""Screenshots: the browser tests write theirs where git ignores them; the README's copies are
refreshed only by `python -m tests.e2e.screenshots`."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.screenshots import ASSETS, refresh, shown
from tests.e2e.support import ROOT, SCREENSHOTS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def test_the_tests_screenshots_go_where_git_ignores_them():
    if git("rev-parse", "--is-inside-work-tree").returncode:
        pytest.skip("not a git checkout")
    for name in shown(README):
        path = (SCREENSHOTS / name).relative_to(ROOT)
        assert git("check-ignore", "-q", str(path)).returncode == 0, f"{path} is not ignored by git"


def test_every_screenshot_the_readme_shows_is_taken_by_a_browser_test_and_tracked():
    names = shown(README)
    assert names == ["train.png", "data.png", "inspect.png", "sample.png", "unrolled.png", "compare.png",
                     "presentation-train.png", "presentation-unrolled.png"]
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "e2e").glob("test_*.py"))
    taken = set(re.findall(r"screenshot\(\w+, \"([\w.-]+\.png)\"\)", tests))
    assert set(names) <= taken
    assert all((ASSETS / n).is_file() for n in names)


def test_refresh_copies_each_screenshot_and_nothing_when_one_is_missing(tmp_path):
    taken, assets = tmp_path / "taken", tmp_path / "assets"
    taken.mkdir()
    assets.mkdir()
    for name in ("a.png", "b.png"):
        (assets / name).write_bytes(b"old " + name.encode())
    (taken / "a.png").write_bytes(b"new a")
    with pytest.raises(FileNotFoundError, match=r"no b\.png"):
        refresh(["a.png", "b.png"], taken, assets)
    assert (assets / "a.png").read_bytes() == b"old a.png"  # all or nothing
    (taken / "b.png").write_bytes(b"new b")
    refresh(["a.png", "b.png"], taken, assets)
    assert [(assets / n).read_bytes() for n in ("a.png", "b.png")] == [b"new a", b"new b"]
