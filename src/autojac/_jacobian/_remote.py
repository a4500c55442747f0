"""Chunks on workers: any ``concurrent.futures.Executor`` (process pool, Dask, Ray).

The task (the function of the flat inputs plus the input arrays) is serialized once with
cloudpickle, so lambdas and closures travel as Dask ships them; each chunk is a call of the
module-level ``run_chunk`` (importable on the worker) with that payload and a row range. A
failed chunk is resubmitted up to ``retries`` times, then reported with its range: a result
is complete or an error, never silently missing a block.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, ThreadPoolExecutor, wait

import numpy as np

_TASKS: dict = {}  # payload digest -> unpickled task, one per worker process (chunks of a job share it)


def _cloudpickle():
    try:
        import cloudpickle
    except ImportError:
        raise ImportError("executor= ships the function to the workers with cloudpickle, which is not installed; "
                          "install the extra: pip install 'autojac[distributed]'") from None
    return cloudpickle


def run_chunk(payload: bytes, start: int, stop: int, attempt: int = 0) -> np.ndarray:
    """Run on a worker: the block of rows ``start:stop`` of the task pickled in ``payload``.
    ``attempt`` only makes a retry a new call (Dask's executor reuses the result, or the error,
    of a call it has seen: its tasks are pure by default)."""
    key = hashlib.blake2b(payload, digest_size=16).digest()
    task = _TASKS.get(key)
    if task is None:
        task = pickle.loads(payload)
        _TASKS.clear()  # keep only the current job's function and inputs
        _TASKS[key] = task
    return task(start, stop)


def check_executor(executor, api: str, forward_mode: bool) -> None:
    if not isinstance(executor, Executor) and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"{api}: executor must be a concurrent.futures.Executor (e.g. ProcessPoolExecutor or "
                        f"distributed.Client(...).get_executor()), got {type(executor).__name__}")
    if forward_mode and isinstance(executor, ThreadPoolExecutor):
        raise ValueError(f"{api}: forward-mode levels are shared by the threads of a process (docs/THREADS.md), so "
                         "forward-mode chunks cannot run on a ThreadPoolExecutor; use a ProcessPoolExecutor or Dask")


def check_retries(retries, api: str) -> int:
    if isinstance(retries, bool) or not isinstance(retries, (int, np.integer)) or retries < 0:
        raise ValueError(f"{api}: retries must be an int >= 0, got {retries!r}")
    return int(retries)


def run_remote(api: str, executor: Executor, task: Callable, ranges: Sequence[tuple[int, int]], retries: int,
               put: Callable[[int, int, np.ndarray], None], width: int, unit: str) -> None:
    """Run ``task(start, stop)`` for every range on ``executor``; ``put`` each block as it arrives."""
    payload = _cloudpickle().dumps(task)
    pending: dict = {}

    def submit(k: int, attempt: int) -> None:
        s, e = ranges[k]
        try:
            fut = executor.submit(run_chunk, payload, s, e, attempt)
        except Exception as exc:  # a broken pool, a closed client
            _cancel(pending)
            raise RuntimeError(f"{api}: could not submit chunk {k} ({unit}s {s}:{e}) to the executor: "
                               f"{type(exc).__name__}: {exc}") from exc
        pending[fut] = (k, attempt)

    for k in range(len(ranges)):
        submit(k, 0)
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            k, attempt = pending.pop(fut)
            s, e = ranges[k]
            try:
                block = fut.result()
            except Exception as exc:
                if attempt < retries:
                    submit(k, attempt + 1)
                    continue
                _cancel(pending)
                raise RuntimeError(f"{api}: chunk {k} ({unit}s {s}:{e} of {ranges[-1][1]}) failed on the executor "
                                   f"after {attempt + 1} attempt(s): {type(exc).__name__}: {exc}") from exc
            if not isinstance(block, np.ndarray) or block.shape != (e - s, width):
                _cancel(pending)
                got = getattr(block, "shape", type(block).__name__)
                raise RuntimeError(f"{api}: chunk {k} ({unit}s {s}:{e}) came back as {got}, expected an array of "
                                   f"shape {(e - s, width)}")
            put(s, e, block)


def _cancel(pending: dict) -> None:
    for fut in pending:
        fut.cancel()
