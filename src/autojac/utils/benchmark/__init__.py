"""``autojac.utils.benchmark``: ``Timer`` and ``Measurement``, as ``torch.utils.benchmark``.

>>> from autojac.utils.benchmark import Timer
>>> m = Timer("x * 2", setup="x = torch.ones(3)").timeit(100)
>>> m.number_per_run, len(m.times)
(100, 1)
"""

from .utils.common import Measurement, TaskSpec, select_unit
from .utils.timer import Language, Timer

__all__ = ["Timer", "Measurement", "TaskSpec", "Language", "select_unit"]
