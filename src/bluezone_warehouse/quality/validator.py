"""Great Expectations in a process of its own, started before it is needed.

Importing Great Expectations takes seconds (DESIGN §8). A daily run in one process starts
this validator as its build begins: the import then runs on another core while dbt builds,
and the check after publishing only validates. The validator validates once, exactly as
:func:`expectations.validate_warehouse` in the run's own process would (it is that function),
and hands back the summary or the exception.

Started with ``subprocess`` (not ``multiprocessing``), so a daemonic process such as a Celery
worker can start it too. The request goes in on the child's stdin; the answer comes back as
a file, so nothing the validation prints can corrupt it. Closing stdin without a request
ends the child; so does the parent's death (stdin reaches its end).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluezone_warehouse.quality.expectations import ValidationSummary


class ValidatorProcessFailed(RuntimeError):
    """The validator process ended without an answer, or its exception could not travel."""


class Validator:
    """One validation in a process started now, importing Great Expectations meanwhile."""

    def __init__(self) -> None:
        self._answer_dir = Path(tempfile.mkdtemp(prefix="bluezone-validator-"))
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, close_fds=True
        )

    def validate(self, **request: Any) -> ValidationSummary:
        """``validate_warehouse(**request)`` in the validator process: its summary, or its
        exception raised here."""
        answer = self._answer_dir / "answer.pickle"
        try:
            pickle.dump({"answer": str(answer), "request": request}, self._process.stdin)
            self._process.stdin.close()
        except BrokenPipeError:
            pass  # it ended already: said below
        code = self._process.wait()
        if not answer.exists():
            raise ValidatorProcessFailed(
                f"the Great Expectations validator process ended (exit {code}) without a result"
            )
        succeeded, value = pickle.loads(answer.read_bytes())
        if succeeded:
            return value
        raise value

    def close(self) -> None:
        """Stop the process if it is still running (a run that ended before its check) and
        remove its answer."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()
        for path in self._answer_dir.glob("*"):
            path.unlink()
        self._answer_dir.rmdir()

    def __enter__(self) -> Validator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _portable(failed: BaseException) -> BaseException:
    """``failed`` if it survives pickling, else a plain error with its text; either way
    with the validator's traceback as a note."""
    text = "".join(traceback.format_exception(failed)).rstrip()
    try:
        pickle.loads(pickle.dumps(failed))
    except Exception:  # an exception type that cannot be rebuilt from its pickle
        failed = ValidatorProcessFailed(f"{type(failed).__name__}: {failed}")
    failed.add_note(f"in the validator process:\n{text}")
    return failed


def _serve() -> None:
    from bluezone_warehouse.quality import expectations

    expectations.import_gx()
    try:
        message = pickle.load(sys.stdin.buffer)
    except EOFError:  # closed without a request: nothing to validate
        return
    try:
        answer: tuple[bool, object] = (True, expectations.validate_warehouse(**message["request"]))
    except Exception as failed:
        answer = (False, _portable(failed))
    path = Path(message["answer"])
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_bytes(pickle.dumps(answer))
    os.replace(staged, path)


if __name__ == "__main__":
    _serve()
