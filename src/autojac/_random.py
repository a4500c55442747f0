"""A CPU generator that draws the same numbers as PyTorch's for ``rand``, ``randn``, ``randint``.

PyTorch's CPU generator is a 32-bit Mersenne Twister seeded with ``init_genrand``; NumPy's
legacy ``RandomState`` is the same engine with the same seeding, so we read its raw
32-bit stream and apply PyTorch's transformations on top.
"""

from __future__ import annotations

import threading

import numpy as np

from ._avx2_normal import box_muller16
from ._core.batched import placeholder
from ._core.trace import TRACERS, note_break
from ._tensor import _wrap

_DEFAULT_SEED = 67280421310721  # PyTorch's default_rng_seed_val


class Generator:
    """Random state for autojac's sampling functions (``autojac.manual_seed`` resets it).

    >>> import autojac
    >>> g = autojac.Generator().manual_seed(0)
    >>> g.initial_seed()
    0
    """

    def __init__(self, device: str = "cpu") -> None:
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        self._seed = seed
        self._bits = np.random.RandomState(seed & 0xFFFFFFFF)._bit_generator
        self._next_normal: float | None = None
        return self

    def seed(self) -> int:
        import time

        s = time.time_ns() & 0xFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        st = self._bits.state
        blob = np.concatenate([st["state"]["key"].astype(np.int64), [st["state"]["pos"], self._seed]])
        return _wrap(blob)

    def set_state(self, state) -> Generator:
        blob = np.asarray(state._data if hasattr(state, "_data") else state, dtype=np.int64)
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": blob[:624].astype(np.uint32), "pos": int(blob[624])}}
        self._seed = int(blob[625])
        self._next_normal = None
        return self

    def __repr__(self) -> str:
        return f"<autojac.Generator object at {hex(id(self))}>"

    # ------------------------------------------------------------------ raw streams
    def _u32(self, n: int) -> np.ndarray:
        if TRACERS:  # a compiled program would replay the same numbers: not the generator's stream
            note_break("random number generation")
        return self._bits.random_raw(n).astype(np.uint64)

    def _u64(self, n: int) -> np.ndarray:
        r = self._u32(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]

    def uniform(self, n: int, dtype: np.dtype) -> np.ndarray:
        """PyTorch's uniform_real_distribution on [0, 1) for ``n`` values."""
        if dtype == np.float64:
            return (self._u64(n) & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0 ** -53
        # float32 and float16 both draw 24-bit values (PyTorch samples half in float, then rounds)
        return (self._u32(n) & np.uint64((1 << 24) - 1)).astype(np.float64) * 2.0 ** -24

    def normal(self, n: int, dtype: np.dtype) -> np.ndarray:
        if n >= 16:
            return self._normal_fill(n, dtype)
        out = np.empty(n, dtype=np.float64)
        for i in range(n):
            out[i] = self._normal_double()
        return out

    def _normal_double(self) -> float:
        if self._next_normal is not None:
            v, self._next_normal = self._next_normal, None
            return v
        u1, u2 = self.uniform(2, np.float64)
        r = np.sqrt(-2.0 * np.log1p(-u2))
        theta = 2.0 * np.pi * u1
        self._next_normal = float(r * np.sin(theta))
        return float(r * np.cos(theta))

    def _normal_fill(self, n: int, dtype: np.dtype) -> np.ndarray:
        """PyTorch's normal_fill: ``n`` uniforms turned in place into normals 16 at a time.

        When ``n`` is not a multiple of 16, the last 16 values are redrawn and transformed
        again (overwriting the partial block), exactly as PyTorch does.
        """
        data = self.uniform(n, dtype)
        full = n - n % 16
        data[:full] = _box_muller16(data[:full].reshape(-1, 16), dtype).reshape(-1)
        if n % 16:
            data[n - 16:] = _box_muller16(self.uniform(16, dtype).reshape(1, 16), dtype).reshape(-1)
        return data

    def integers(self, low: int, high: int, n: int) -> np.ndarray:
        """PyTorch's random_from_to: ``low + draw % range``.

        PyTorch 2.x draws 64 bits once the range reaches 2**28 (fewer bits would bias the
        modulo), 32 bits below that.
        """
        span = high - low
        if span <= 0:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        draws = self._u32(n) if span < 2 ** 28 else self._u64(n)
        return (low + (draws % np.uint64(span)).astype(np.int64)).astype(np.int64)

    def permutation(self, n: int) -> np.ndarray:
        """PyTorch's randperm: a Fisher-Yates shuffle of ``0..n-1`` driven by 32-bit draws."""
        perm = list(range(n))
        if n < 0xFFFFFFFF // 20:
            draws = self._u32(max(n - 1, 0)).tolist()
            for i, r in enumerate(draws):
                z = i + r % (n - i)
                perm[i], perm[z] = perm[z], perm[i]
        else:  # PyTorch's "inside-out" variant with 64-bit draws, for huge n
            for i, r in enumerate(self._u64(n).tolist()):
                z = r % (i + 1)
                perm[i] = perm[z]
                perm[z] = i
        return np.array(perm, dtype=np.int64)


def _box_muller16(u: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Rows of 16 uniforms -> 16 normals: radii from the first 8, angles from the last 8."""
    if dtype == np.float32:  # PyTorch's AVX2 kernel: float32 polynomials with fused multiply-adds
        return box_muller16(u)
    radius = np.sqrt(-2.0 * np.log(1.0 - u[:, :8]))
    theta = 2.0 * np.pi * u[:, 8:]
    return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; the same seed gives PyTorch's draws for rand/randn/randint.

    >>> import autojac
    >>> _ = autojac.manual_seed(42); autojac.rand(2)
    tensor([0.8823, 0.9150])
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


class _VmapRandomness(threading.local):
    def __init__(self) -> None:
        self.stack: list = []


# vmap's randomness flags in this thread, innermost vmap last (per thread, as in PyTorch; vmap lives
# above the ops layer, samplers read it here): a string for a vmap running as a loop, a ``Vectorized``
# for one running by batching rules
_VMAP = _VmapRandomness()


class Vectorized:
    """The randomness flag of a vectorized vmap: its ``mode`` ("error", "same", "different"), its
    ``level`` and batch ``size``; ``saved`` keeps each generator's state before this vmap's first
    draw, so that a fallback to the loop draws the same numbers again."""

    __slots__ = ("mode", "level", "size", "saved")

    def __init__(self, mode: str, level: int, size: int) -> None:
        self.mode, self.level, self.size = mode, level, size
        self.saved: dict = {}


def vmap_randomness() -> list:
    """This thread's stack of vmap randomness flags (the list itself: vmap pushes and pops)."""
    return _VMAP.stack


def check_vmap_randomness(generator: Generator | None = None) -> list:
    """Random samplers call this before drawing: inside ``vmap(..., randomness='error')`` they must not run.

    Returns the vectorized vmaps whose randomness is "different", outermost first: the sampler
    draws one sample per element of their batches at once (a leading dim each, PyTorch's order)
    and hands the result to ``batched_draw``. Under "same" it draws once, unbatched.
    """
    flags = _VMAP.stack
    if not flags:
        return []
    inner = flags[-1]
    if (inner if type(inner) is str else inner.mode) == "error":
        _randomness_error()
    levels = []
    for f in flags:
        if type(f) is Vectorized:
            if f.mode == "error":
                _randomness_error()
            gen = default_generator if generator is None else generator
            if gen not in f.saved:
                f.saved[gen] = gen.get_state()
            if f.mode == "different":
                levels.append(f)
    return levels


def draw_shape(levels: list, shape: tuple) -> tuple:
    """The shape a sampler draws for ``shape`` under the vectorized vmaps ``levels`` (``check_vmap_randomness``)."""
    return tuple(f.size for f in levels) + tuple(shape)


def batched_draw(t, levels: list):
    """``t`` (the draws, one leading dim per level of ``levels``) as a tensor batched at those vmap levels."""
    for f in levels:
        t = _wrap(placeholder(t, f.level, f.size))
    return t


def restore_draws(flag: Vectorized) -> None:
    """Rewind the generators a vectorized vmap drew from (it falls back to the loop, which draws again)."""
    for gen, state in flag.saved.items():
        gen.set_state(state)


def _randomness_error() -> None:
    raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use the 'same' "
            "or 'different' randomness flags on vmap or perform the randomness operation out of vmap"
        )
