"""`make mutants` sends mutmut's timeout signal only to a mutant run that still holds its pid: a pid
given since to another process (a plugin, an Xinference server) is left alone."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tools import mutmut_guarded as guarded


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_the_run_that_registered_the_pid_gets_the_signal(sleeper):
    guarded.note(sleeper.pid)
    guarded.OsForTheTimeoutChecker.kill(sleeper.pid, signal.SIGXCPU)
    assert sleeper.wait(10) == -signal.SIGXCPU


def test_a_process_that_took_the_pid_since_is_left_alone(sleeper):
    guarded._started[sleeper.pid].append(b"1")  # what the ended run's start time was: not this process's
    with pytest.raises(ProcessLookupError):
        guarded.OsForTheTimeoutChecker.kill(sleeper.pid, signal.SIGXCPU)
    assert sleeper.poll() is None and sleeper.pid not in guarded._started


def test_a_pid_never_registered_is_left_alone(sleeper):
    with pytest.raises(ProcessLookupError):
        guarded.OsForTheTimeoutChecker.kill(sleeper.pid, signal.SIGXCPU)
    assert sleeper.poll() is None


def test_two_runs_under_one_pid_are_told_apart_in_deadline_order(sleeper):
    guarded._started[sleeper.pid].append(b"1")  # an earlier run, ended
    guarded.note(sleeper.pid)  # the run holding the pid now
    with pytest.raises(ProcessLookupError):
        guarded.OsForTheTimeoutChecker.kill(sleeper.pid, signal.SIGXCPU)  # the ended run's deadline
    assert sleeper.poll() is None
    guarded.OsForTheTimeoutChecker.kill(sleeper.pid, signal.SIGXCPU)  # its own deadline
    assert sleeper.wait(10) == -signal.SIGXCPU


def test_the_start_time_is_read_past_a_command_name_with_spaces_and_parentheses(tmp_path):
    odd = tmp_path / "a b) (c"  # the kernel's command name is the executable's file name
    odd.symlink_to(sys.executable)
    proc = subprocess.Popen([str(odd), "-c", "import time; time.sleep(60)"])
    try:
        with open(f"/proc/{proc.pid}/stat", "rb") as stat:
            data = stat.read()
        head = f"{proc.pid} (a b) (c) ".encode()
        assert data.startswith(head)
        assert guarded.start_time(proc.pid) == data[len(head) :].split()[19]  # field 22
    finally:
        proc.kill()
        proc.wait()
    assert guarded.start_time(proc.pid) is None
