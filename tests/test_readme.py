"""Every command in the README works as printed.

The shell code blocks, and the inline code that starts with a command, are read the way a user
copies them. The command-line examples (`python -m rnn_core.train ...`, and `python -c ...` that
writes their input) run, in the README's order, through bash in a temporary directory with the
repository on PYTHONPATH, and the files they write are checked. Commands too slow or too wide for
a test (pip install, streamlit run, .ci/run, the benchmark, the browser scripts) are checked for
form: the files, modules and options they name exist. A command of a kind this file does not know
fails the test, so a new one cannot slip through unchecked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import rnn_core.train as train_cli
from rnn_core.checkpoint import load

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`]+)`")
# Inline code that starts with one of these is a command; pip, sudo and apt-get only with a
# subcommand and what it acts on (prose mentions `pip install` or `sudo apt-get` as such).
COMMAND_WORDS = {"python": 2, "python3": 2, "bash": 2, "streamlit": 2, ".": 2, "pip": 3, "sudo": 3,
                 "apt-get": 3}
TEST_COMMAND = "python -m pytest -q -p no:cacheprovider"


def block_lines(text: str) -> list[str]:
    """The command lines of the README's shell blocks, backslash continuations joined, comment
    lines dropped."""
    lines = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            if shlex.split(line, comments=True):
                lines.append(" ".join(line.split()))
    return lines


def inline_lines(text: str) -> list[str]:
    """The commands in inline code outside the shell blocks."""
    spans = [" ".join(m.split()) for m in INLINE.findall(FENCE.sub("", text))]
    return [s for s in spans if len(s.split()) >= COMMAND_WORDS.get(s.split()[0], 1000)]


def simple_commands(line: str) -> list[list[str]]:
    """`a && b > f` -> [[a...], [b..., '>', 'f']]."""
    commands: list[list[str]] = [[]]
    for token in shlex.split(line, comments=True):
        if token == "&&":
            commands.append([])
        else:
            commands[-1].append(token)
    assert all(commands), f"an empty command in {line!r}"
    return commands


def runs_here(argv: list[str]) -> bool:
    """Commands the test runs: the CLI's examples and the `python -c` that writes their input."""
    return argv[0] == "python" and (argv[1:3] == ["-m", "rnn_core.train"] or argv[1] == "-c")


def help_text(*argv: str) -> str:
    out = subprocess.run([sys.executable, *argv, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, (argv, out.stderr)
    return out.stdout


def check_options_exist(argv: list[str], source: Path, target: list[str]) -> None:
    """The options given are in the program's --help. A program without argparse takes none (and
    is not started: --help would not stop it)."""
    options = [a.split("=")[0] for a in argv if a.startswith("-")]
    if not options:
        return
    assert "ArgumentParser" in source.read_text(encoding="utf-8"), f"{target} takes no options"
    text = help_text(*target)
    for option in options:
        assert re.search(rf"{re.escape(option)}\b", text), f"{option} is not an option of {target}"


def check_form(argv: list[str], venvs: set[str]) -> None:
    """A command that is not run here names only files, modules and options that exist."""
    if argv[0] == "sudo":
        argv = argv[1:]
    match argv:
        case ["python3", "-m", "venv", folder]:
            assert importlib.util.find_spec("venv"), "no venv module"
            ignored = subprocess.run(["git", "check-ignore", "-q", f"{folder}/"], cwd=ROOT).returncode == 0
            assert ignored or not (ROOT / ".git").exists(), f"{folder} would show in git status"
            venvs.add(folder)
        case [".", activate] | ["source", activate]:
            assert any(activate == f"{v}/bin/activate" for v in venvs), f"{activate}: made by no venv"
        case ["pip", "install", "-r", requirements] | ["python", "-m", "pip", "install", "-r", requirements]:
            assert requirements.startswith("requirements") and (ROOT / requirements).is_file(), requirements
        case ["apt-get", "install", *packages]:
            assert packages and all(re.fullmatch(r"-y|[a-z0-9][a-z0-9.+-]*", p) for p in packages), packages
        case ["streamlit", "run", script]:
            assert (ROOT / script).is_file(), script
        case ["bash", script, *tests]:  # .ci/run with the tests to run, if any
            assert os.access(ROOT / script, os.X_OK), f"{script}: missing or not executable"
            assert all((ROOT / t).exists() for t in tests if not t.startswith("-")), tests
        case ["python", script, *rest] if script.endswith(".py"):
            assert (ROOT / script).is_file(), script
            check_options_exist(rest, ROOT / script, [script])
        case ["python", "-m", module, *rest] if module.split(".")[0] in ("bench", "tests"):
            spec = importlib.util.find_spec(module)
            assert spec and spec.origin, f"no module {module}"
            check_options_exist(rest, Path(spec.origin), ["-m", module])
        case _:
            pytest.fail(f"the README has a command this test does not check: {shlex.join(argv)}")


def test_every_command_the_readme_does_not_run_here_is_well_formed():
    checked = 0
    for line in block_lines(README) + inline_lines(README):
        venvs: set[str] = set()  # a venv made earlier in the same line, for its activate script
        for argv in simple_commands(line):
            if not runs_here(argv):
                check_form(argv, venvs)
                checked += 1
    assert checked >= 10  # the first screen's two commands alone have 7


def test_the_cli_examples_run_as_printed_in_order(tmp_path):
    lines = [line for line in block_lines(README) + inline_lines(README)
             if all(runs_here(argv) for argv in simple_commands(line))]
    assert sum("--init" in line for line in lines) >= 1, "the README shows no resume"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    for line in lines:
        argvs = simple_commands(line)
        steps_before = {}
        for argv in argvs:
            if argv[1:3] == ["-m", "rnn_core.train"] and "--init" in argv:
                init = argv[argv.index("--init") + 1]
                steps_before[init] = load(work / init).trainer["step"]
        out = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, f"{line}\n{out.stderr[-2000:]}"
        for argv in argvs:
            check_output(argv, work, out.stdout, steps_before)


def check_output(argv: list[str], work: Path, stdout: str, steps_before: dict[str, int]) -> None:
    """The files a command wrote, and what the CLI said about them."""
    if ">" in argv:
        target = work / argv[argv.index(">") + 1]
        assert target.is_file() and target.stat().st_size > 0, target
    if argv[1:3] != ["-m", "rnn_core.train"]:
        return
    if "--help" in argv:
        assert stdout.startswith("usage: python -m rnn_core.train")
        return
    args = train_cli.parse_args(argv[3:])
    start = steps_before.get(args.init, 0) if args.init else 0
    assert stdout.splitlines()[-1].startswith(f"Finished at step {start + args.steps:,}: validation ")
    if args.save:
        assert load(work / args.save).trainer["step"] == start + args.steps
    if args.log:
        assert len((work / args.log).read_text(encoding="utf-8").splitlines()) == args.steps


def test_the_first_screen_gets_a_new_user_from_a_fresh_debian_to_the_app_and_the_tests():
    top = README[: README.index("\n---\n")]
    first_block = block_lines(top)
    assert len(first_block) == 2  # one command starts the app, one runs every test
    app, tests = (simple_commands(line) for line in first_block)
    for commands in (app, tests):  # a virtual environment first: Debian's pip refuses without one
        assert commands[0] == ["python3", "-m", "venv", ".venv"]
        assert commands[1] == [".", ".venv/bin/activate"]
    assert app[2:] == [["pip", "install", "-r", "requirements.txt"], ["streamlit", "run", "app.py"]]
    assert tests[2:] == [["bash", ".ci/run"]]
    for words in ("sudo apt-get install python3-venv", "http://localhost:8501", "`sudo apt-get`",
                  "externally-managed-environment"):
        assert words in " ".join(top.split()), words


def test_the_app_is_where_the_readme_says():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server.get("port", 8501) == 8501 and server.get("address", "localhost") in ("localhost", "")


def test_ci_runs_the_test_command():
    assert f'{TEST_COMMAND} "$@"' in (ROOT / ".ci" / "run").read_text()
