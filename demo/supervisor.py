"""Run a few long-lived child processes together and stop them together (the engine of ``make run``).

Children get their own process group, so a terminal's Ctrl-C reaches only the supervisor, which then
stops every child exactly once: SIGTERM, a grace period, SIGKILL for whatever is left. Their output
is relayed line by line with a name prefix, so three logs stay readable in one terminal.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import IO, Any

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[str]
    relay: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int:
        return self.process.pid


class ChildDied(Exception):
    """A child exited while the supervisor had not asked it to."""

    def __init__(self, child: Child) -> None:
        code = child.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        super().__init__(f"{child.name} (pid {child.pid}) {how}")
        self.child = child


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child if the supervisor itself dies (even by SIGKILL).

    Without it a killed supervisor would leave a web server holding the port and the embedded
    database running. Other systems have no such call; there only the normal shutdown path applies.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)  # loaded before fork, not in it
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


class Supervisor:
    def __init__(
        self,
        *,
        specs: Sequence[ChildSpec],
        env: dict[str, str],
        cwd: str,
        write: Callable[[str], None],
        stop_timeout: float = 10.0,
    ) -> None:
        self.specs = list(specs)
        self.env = env
        self.cwd = cwd
        self.write = write
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []
        self.stop_signal: int | None = None
        self._write_lock = threading.Lock()
        self._previous_handlers: dict[int, Any] = {}
        self._hurry = False

    # --- output ---------------------------------------------------------------------------

    def say(self, line: str, *, source: str = "kindred") -> None:
        with self._write_lock:
            self.write(f"{source:<7}| {line}")

    def _relay(self, child: Child) -> None:
        assert child.process.stdout is not None
        for line in child.process.stdout:
            self.say(line.rstrip("\n"), source=child.name)

    # --- signals --------------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only record the request: the main loop does the stopping, outside the signal handler.
        # A second Ctrl-C while stopping skips the grace period.
        if self.stop_signal is None:
            self.stop_signal = signum
        else:
            self._hurry = True

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def restore_signal_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers.clear()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start every child, then their output relays (threads only after the last fork)."""
        pre_exec = _die_with_parent_hook()
        for spec in self.specs:
            process = subprocess.Popen(  # noqa: S603 - argv built by the supervisor, no shell
                list(spec.argv),
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
                process_group=0,
                preexec_fn=pre_exec,  # safe: no threads exist yet (relays start after the last fork)
            )
            self.children.append(Child(spec=spec, process=process))
        for child in self.children:
            child.relay = threading.Thread(target=self._relay, args=(child,), name=f"relay-{child.name}", daemon=True)
            child.relay.start()

    def check_children(self) -> None:
        """Raise ChildDied if any child exited without being asked to."""
        for child in self.children:
            if child.process.poll() is not None:
                raise ChildDied(child)

    def stop(self) -> None:
        """SIGTERM every running child, wait up to ``stop_timeout``, SIGKILL the rest; reap them all."""
        waiting = [child for child in self.children if child.process.poll() is None]
        for child in waiting:
            self.say(f"stopping {child.name} (pid {child.pid})")
            self._send(child, signal.SIGTERM, group=False)
        deadline = time.monotonic() + self.stop_timeout
        while waiting and not self._hurry and time.monotonic() < deadline:
            for child in [child for child in waiting if child.process.poll() is not None]:
                waiting.remove(child)
                self.say(f"{child.name} stopped (exit code {child.process.returncode})")
            time.sleep(0.1)
        for child in self.children:
            if child.process.poll() is None:
                # Still unreaped, so its pid (the group id) cannot have been reused: safe to kill the
                # whole group, which also takes anything the child started.
                self.say(f"{child.name} did not stop in time: killing it")
                self._send(child, signal.SIGKILL, group=True)
            child.process.wait()
        for child in self.children:
            if child.relay is not None:
                child.relay.join(timeout=2)

    @staticmethod
    def _send(child: Child, signum: int, *, group: bool) -> None:
        try:
            if group:
                os.killpg(child.pid, signum)
            else:
                child.process.send_signal(signum)
        except ProcessLookupError:
            pass

    def run(self, *, is_ready: Callable[[], bool], on_ready: Callable[[], None], ready_timeout: float = 120.0) -> int:
        """Start the children and watch them until a stop signal (returns 0) or a death (raises ChildDied)."""
        self.install_signal_handlers()
        try:
            self.start()
            started = time.monotonic()
            ready = warned = False
            while self.stop_signal is None:
                self.check_children()
                if not ready and is_ready():
                    ready = True
                    on_ready()
                elif not ready and not warned and time.monotonic() - started > ready_timeout:
                    warned = True
                    self.say(f"the web server has not answered after {ready_timeout:.0f} s; still waiting")
                time.sleep(0.25)
            self.say(f"received {signal.Signals(self.stop_signal).name}: shutting down")
            return 0
        except ChildDied as exc:
            self.say(f"{exc}; stopping the others")
            raise
        finally:
            self.stop()
            self.restore_signal_handlers()


def stdout_writer(stream: IO[str]) -> Callable[[str], None]:
    def write(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    return write
