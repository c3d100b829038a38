"""The command line run as a person runs it: on a terminal, and without one.

The progress bar is only drawn when stderr is a terminal, so these tests give
the command a real pseudo-terminal (``pty``) and read what it drew.
"""

import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time

import pytest
from _small_model import SMALL_ARGS as SMALL

TIMEOUT = 240


def _env(**extra):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.update(extra)
    return env


def _run_on_terminal(args, env):
    """Run ``python -m skanime ARGS`` with a pty as stdin, stdout and stderr."""
    primary, secondary = pty.openpty()
    # A new pty is 0 x 0; give it the size of an ordinary terminal window.
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "skanime", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    chunks = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1.0)
            if ready:
                try:
                    data = os.read(primary, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        else:
            process.kill()
            pytest.fail(f"skanime {' '.join(args)} ran over {TIMEOUT} s on a pty")
        returncode = process.wait(timeout=30)
    finally:
        os.close(primary)
    return returncode, b"".join(chunks).decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def small_csv(datapath):
    return str(datapath("cli", "anime_small.csv"))


@pytest.fixture(scope="module")
def data_home(small_csv, tmp_path_factory):
    """A data folder holding the small fixture as the default ``anime.csv``."""
    home = tmp_path_factory.mktemp("data_home")
    shutil.copy(small_csv, home / "anime.csv")
    return home


def test_evaluate_on_a_terminal_draws_the_progress_bar(small_csv):
    args = ["evaluate", small_csv, "--cv", "2", *SMALL]
    returncode, screen = _run_on_terminal(args, _env())
    assert returncode == 0, screen
    assert "Traceback" not in screen
    assert "ModuleNotFoundError" not in screen
    # tqdm's bar: "cross-validation:  50%|#####     | 1/2 [...]"
    assert "cross-validation:" in screen and "%|" in screen, screen
    assert "1/2" in screen and "\r" in screen
    assert "micro avg" in screen


def test_evaluate_without_a_terminal_has_no_bar(small_csv):
    completed = subprocess.run(
        [sys.executable, "-m", "skanime", "evaluate", small_csv, "--cv", "2", *SMALL],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=TIMEOUT,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "%|" not in completed.stderr
    assert "fold 2/2" in completed.stderr
    assert "micro avg" in completed.stdout


def test_demo_on_a_terminal_prints_the_first_fold_early(data_home):
    args = ["demo", "--cv", "2", *SMALL]
    returncode, screen = _run_on_terminal(args, _env(SKANIME_DATA_HOME=str(data_home)))
    assert returncode == 0, screen
    assert "Traceback" not in screen
    assert "%|" in screen, screen
    quick = screen.index("Quick look (TF-IDF + logistic regression")
    first = screen.index("First fold (held out")
    assert quick < first
    assert "estimated time left" in screen[first:]
    assert first < screen.index("Cross-validated genre prediction (2 folds")
    assert "predicted genres:" in screen


def test_demo_without_a_terminal_has_no_bar(data_home):
    completed = subprocess.run(
        [sys.executable, "-m", "skanime", "demo", "--cv", "2", *SMALL],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(SKANIME_DATA_HOME=str(data_home)),
        timeout=TIMEOUT,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "%|" not in completed.stderr
    assert "fold 1/2" in completed.stderr
    assert "Bakemonogatari's most likely genres: " in completed.stdout
    assert "First fold (held out" in completed.stdout
    assert "predicted genres:" in completed.stdout
