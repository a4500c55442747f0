"""``autojac.profiler``: ``profile`` and ``record_function`` under ``torch.profiler``'s names.

The CPU activity of ``torch.profiler.profile`` is the autograd profiler's: the same events and tables
(``activities``, ``schedule`` and trace handlers are accepted; only the CPU is profiled).

>>> import autojac
>>> with autojac.profiler.profile() as prof:
...     _ = autojac.ones(2) * 2
>>> [e.key for e in prof.key_averages()]
['aten::mul']
"""

from __future__ import annotations

import enum

from ..autograd.profiler import EventList, record_function
from ..autograd.profiler import profile as _autograd_profile

__all__ = ["profile", "record_function", "ProfilerActivity", "EventList"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1


class profile(_autograd_profile):  # noqa: N801
    """``torch.profiler.profile``: records CPU op events (``activities`` other than CPU record nothing)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config=None, acc_events: bool = False, **kwargs) -> None:
        super().__init__(record_shapes=record_shapes)
        self.on_trace_ready = on_trace_ready

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self) -> None:
        """Schedules are not simulated: every step is recorded."""
