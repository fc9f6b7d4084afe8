"""Refresh the README's screenshots: run the browser tests that take them, then copy each one the
README shows into assets/screenshots/.

    python -m tests.e2e.screenshots

The tests write their screenshots to test-results/screenshots/ (ignored by git), so a test run
leaves the checkout as it was; this command is the only one that writes assets/screenshots/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.support import ROOT, SCREENSHOTS

ASSETS = ROOT / "assets" / "screenshots"
# The browser tests that call screenshot(): the Train and Data pages, Inspect and Sample, Unrolled,
# Compare, and the Train and Unrolled pages in presentation mode.
TESTS = ("tests/e2e/test_app_e2e.py", "tests/e2e/test_inspect_sample.py", "tests/e2e/test_unrolled.py",
         "tests/e2e/test_compare.py", "tests/e2e/test_presentation.py")


def shown(readme: str) -> list[str]:
    """The screenshots the README shows (assets/screenshots/NAME.png), in order, once each."""
    return list(dict.fromkeys(re.findall(r"\(assets/screenshots/([\w.-]+\.png)\)", readme)))


def refresh(names: list[str], taken: Path, assets: Path) -> None:
    """Copy each of `names` from `taken` into `assets`; nothing is copied when one is missing."""
    missing = [n for n in names if not (taken / n).is_file()]
    if missing:
        raise FileNotFoundError(f"no {', '.join(missing)} in {taken}: did the tests that take them run?")
    for name in names:
        shutil.copyfile(taken / name, assets / name)


def main() -> int:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's screenshots count
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
                           cwd=ROOT, check=False)
    if tests.returncode:
        sys.stderr.write(f"error: the browser tests failed (status {tests.returncode}); "
                         "assets/screenshots/ is unchanged\n")
        return 1
    names = shown((ROOT / "README.md").read_text(encoding="utf-8"))
    try:
        refresh(names, SCREENSHOTS, ASSETS)
    except FileNotFoundError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(f"refreshed {', '.join(names)} in {ASSETS.relative_to(ROOT)}/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
