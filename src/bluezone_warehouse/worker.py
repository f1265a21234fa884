"""One call made in a process of its own, started before the call is needed.

A daily run in one process overlaps what would otherwise wait in line (DESIGN §8):
Great Expectations is imported by the process that will validate while dbt builds, and
validates while this one publishes the snapshot (``pipeline.run_daily``); ingestion runs in
a process of its own while this one imports dbt and parses the project. A :class:`Worker`
runs its *warm-up* (an import) at once, then waits for its one call, makes it exactly as
this process would (it is the same function), and hands back the result or the exception;
the call can be started (``start``) before its answer is needed (``call``).

Started with ``subprocess`` (not ``multiprocessing``), so a daemonic process such as a Celery
worker can start one too. The call goes in on the child's stdin; the answer comes back as
a file, so nothing the call prints can corrupt it. Closing stdin without a call ends the
child; so does this process's death (stdin reaches its end). The child logs at this
process's root level, to stderr, when this process has logging set up.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


class WorkerFailed(RuntimeError):
    """The worker process ended without an answer, or its exception could not travel."""


def _resolve(name: str) -> Callable[..., Any]:
    """``"package.module:function"`` → the function."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


class Worker:
    """``target`` (``"module:function"``) called once in a process started now, which runs
    ``warm_up`` (another ``"module:function"``, no arguments) while it waits; ``nice``: its
    scheduling priority below this process's (a warm-up that must not slow the work that
    runs meanwhile)."""

    def __init__(self, target: str, *, warm_up: str | None = None, nice: int = 0) -> None:
        self.target = target
        self._answer_dir = Path(tempfile.mkdtemp(prefix="bluezone-worker-"))
        self._answer = self._answer_dir / "answer.pickle"
        self._arguments: dict[str, Any] | None = None  # of the call, once started
        root = logging.getLogger()
        level = logging.getLevelName(root.level) if root.handlers else ""
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, target, warm_up or "", level, str(nice)],
            stdin=subprocess.PIPE,
            close_fds=True,
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def start(self, **arguments: Any) -> None:
        """Begin ``target(**arguments)`` in the worker process and return at once; ``call``
        with the same arguments then waits for its answer."""
        if self._arguments is not None:
            raise RuntimeError(f"the worker for {self.target} was started already")
        self._arguments = arguments
        try:
            pickle.dump({"answer": str(self._answer), "arguments": arguments}, self._process.stdin)
            self._process.stdin.close()
        except BrokenPipeError:
            pass  # it has ended already: ``call`` says so

    def call(self, **arguments: Any) -> Any:
        """``target(**arguments)`` in the worker process: its result, or its exception
        raised here (with the worker's traceback as a note). If ``start`` began the call
        already, its answer (the arguments must be the same)."""
        if self._arguments is None:
            self.start(**arguments)
        elif arguments != self._arguments:
            raise RuntimeError(
                f"the worker for {self.target} was started with other arguments: "
                f"{sorted(self._arguments)} against {sorted(arguments)}"
            )
        code = self._process.wait()
        if not self._answer.exists():
            raise WorkerFailed(
                f"the process for {self.target} ended (exit {code}) without a result"
            )
        succeeded, value = pickle.loads(self._answer.read_bytes())
        if succeeded:
            return value
        raise value

    def close(self) -> None:
        """Stop the process if it still runs (nothing was asked of it, or the caller gave
        up) and remove its answer."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()
        shutil.rmtree(self._answer_dir, ignore_errors=True)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _portable(failed: BaseException) -> BaseException:
    """``failed`` if it survives pickling, else a plain error with its text; either way
    with the worker's traceback as a note."""
    text = "".join(traceback.format_exception(failed)).rstrip()
    try:
        pickle.loads(pickle.dumps(failed))
    except Exception:  # an exception type that cannot be rebuilt from its pickle
        failed = WorkerFailed(f"{type(failed).__name__}: {failed}")
    failed.add_note(f"in the worker process:\n{text}")
    return failed


def _serve(target: str, warm_up: str, level: str, nice: str) -> None:
    os.nice(int(nice))
    if level:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    function = _resolve(target)
    if warm_up:
        _resolve(warm_up)()
    try:
        message = pickle.load(sys.stdin.buffer)
    except EOFError:  # closed without a call: nothing to do
        return
    try:
        answer: tuple[bool, object] = (True, function(**message["arguments"]))
    except Exception as failed:
        answer = (False, _portable(failed))
    path = Path(message["answer"])
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_bytes(pickle.dumps(answer))
    os.replace(staged, path)


if __name__ == "__main__":
    _serve(*sys.argv[1:5])
