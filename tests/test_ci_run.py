""".ci/run, the README's test command, run in a scratch git checkout with stand-ins for apt-get,
sudo, chromium and python (which record how they were called): what it shows when apt-get works
and when it fails, that a missing browser fails the run, and that a run which changes tracked files
fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The real tools .ci/run needs, and chmod for the stand-in apt-get.
TOOLS = ("dirname", "id", "mktemp", "cat", "rm", "git", "sha256sum", "chmod")
APT_NOISE = "Reading package lists... Done (apt-get chatter that a working run keeps quiet)"

FAKE_APT = f"""#!/bin/bash
echo "$*" >> "$CALLS/apt-get"
echo "{APT_NOISE}"
if [ "$1" = install ] && [ "$FAKE_APT" = fail ]; then
  echo "E: Unable to locate package chromium" >&2; exit 100
fi
if [ "$1" = install ]; then printf '#!/bin/bash\\n' > "$BIN/chromium"; chmod +x "$BIN/chromium"; fi
"""
FAKE_SUDO = """#!/bin/bash
echo "$*" >> "$CALLS/sudo"
exec "$@"
"""
FAKE_PYTHON = """#!/bin/bash
echo "$*" >> "$CALLS/python"
if [ "$2" = pytest ]; then
  [ "$FAKE_PYTEST" != dirty ] || echo changed >> tracked.txt
  [ "$FAKE_PYTEST" != fail ] || exit 1
fi
exit 0
"""


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git checkout holding .ci/run and one tracked file; bin/ on PATH has only the stand-ins
    and the real tools .ci/run needs, so chromium is missing until the fake apt-get installs it."""
    repo, bin_dir, calls = tmp_path / "repo", tmp_path / "bin", tmp_path / "calls"
    (repo / ".ci").mkdir(parents=True)
    bin_dir.mkdir()
    calls.mkdir()
    shutil.copy2(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "tracked.txt").write_text("as committed\n")
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.org"]
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "start"]):
        subprocess.run([*git, *cmd], cwd=repo, check=True, capture_output=True)
    for tool in TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    _script(bin_dir / "apt-get", FAKE_APT)
    _script(bin_dir / "sudo", FAKE_SUDO)
    _script(bin_dir / "python", FAKE_PYTHON)
    return repo


def run_ci(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    tmp = repo.parent
    full_env = {"PATH": str(tmp / "bin"), "HOME": str(tmp), "BIN": str(tmp / "bin"),
                "CALLS": str(tmp / "calls"), **env}
    return subprocess.run([shutil.which("bash"), ".ci/run", *args], cwd=repo, env=full_env,
                          capture_output=True, text=True, timeout=60)


def calls(repo: Path, program: str) -> list[str]:
    path = repo.parent / "calls" / program
    return path.read_text().splitlines() if path.exists() else []


def test_installs_chromium_quietly_then_lints_and_tests(checkout):
    out = run_ci(checkout, FAKE_APT="ok")
    assert out.returncode == 0, out.stderr
    assert APT_NOISE not in out.stdout + out.stderr
    assert calls(checkout, "apt-get") == ["update -q", "install -y -q chromium"]
    assert calls(checkout, "sudo") == ([] if os.getuid() == 0 else ["apt-get update -q",
                                                                     "apt-get install -y -q chromium"])
    assert calls(checkout, "python") == ["-m pip install -q -r requirements-dev.txt", "-m ruff check .",
                                         "-m pytest -q -p no:cacheprovider -n 2 --ignore=tests/e2e",
                                         "-m pytest -q -p no:cacheprovider tests/e2e"]


def test_arguments_go_to_one_pytest_run(checkout):
    out = run_ci(checkout, "tests/test_text.py", "-x", FAKE_APT="ok")
    assert out.returncode == 0, out.stderr
    assert [c for c in calls(checkout, "python") if "pytest" in c] == [
        "-m pytest -q -p no:cacheprovider tests/test_text.py -x"]


def test_a_failed_chromium_install_shows_why_and_fails_before_any_test(checkout):
    out = run_ci(checkout, FAKE_APT="fail")
    assert out.returncode != 0
    assert "E: Unable to locate package chromium" in out.stderr  # apt-get's own reason
    assert out.stderr.strip().splitlines()[-1].startswith("error: could not install chromium with")
    assert calls(checkout, "python") == []  # nothing ran without the browser: no skipped tests


def test_with_chromium_present_apt_get_is_not_called(checkout):
    _script(checkout.parent / "bin" / "chromium", "#!/bin/bash\n")
    out = run_ci(checkout, FAKE_APT="fail")
    assert out.returncode == 0, out.stderr
    assert calls(checkout, "apt-get") == []


def test_a_run_that_changes_tracked_files_fails(checkout):
    out = run_ci(checkout, FAKE_APT="ok", FAKE_PYTEST="dirty")
    assert out.returncode == 1
    assert "tracked.txt" in out.stderr
    assert "error: the test run changed tracked files" in out.stderr


def test_already_changed_files_do_not_count_but_a_further_change_does(checkout):
    (checkout / "tracked.txt").write_text("edited by hand before the run\n")
    assert run_ci(checkout, FAKE_APT="ok").returncode == 0
    out = run_ci(checkout, FAKE_APT="ok", FAKE_PYTEST="dirty")  # the same file, changed again
    assert out.returncode == 1 and "changed tracked files" in out.stderr


def test_failing_tests_keep_their_status(checkout):
    out = run_ci(checkout, FAKE_APT="ok", FAKE_PYTEST="fail")
    assert out.returncode == 1
    assert len([c for c in calls(checkout, "python") if "pytest" in c]) == 2  # the browser tests run too
    assert "changed tracked files" not in out.stderr
