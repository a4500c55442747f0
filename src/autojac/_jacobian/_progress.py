"""Progress bars for long Jacobians: tqdm (``tqdm.auto``, so notebooks get a widget) when installed.

``progress=None`` (auto) shows a bar for more than a few chunks once the work has run for
0.5 s, and for a few chunks once it has run for ~2 s (quick Jacobians stay silent); ``True``
always shows one (when tqdm is installed), ``False`` never. Without tqdm everything stays silent.
"""

from __future__ import annotations

import sys

FEW_CHUNKS = 4  # auto mode: more chunks than this show a bar after MANY_DELAY_S
MANY_DELAY_S = 0.5
DELAY_S = 2.0  # auto mode: fewer chunks show a bar once the work has run this long


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(progress: bool | None, total: int, n_chunks: int, desc: str, unit: str):
    """A bar over ``total`` basis vectors split in ``n_chunks`` chunks (``update`` by the chunk's length)."""
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"{desc}: progress must be True, False or None, got {type(progress).__name__}")
    if progress is False or (progress is None and n_chunks <= 1):
        return _Silent()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the `progress` extra is optional: no bar then
        return _Silent()
    delay = 0.0 if progress else MANY_DELAY_S if n_chunks > FEW_CHUNKS else DELAY_S
    return tqdm(total=total, desc=desc, unit=unit, delay=delay, file=sys.stderr, leave=False,
                dynamic_ncols=True)
