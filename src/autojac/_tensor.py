"""Tensor: a NumPy array plus what autograd needs (requires_grad, grad, grad_fn, version)."""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _dtype
from ._core.batched import Batched, placeholder, read_batched
from ._core.grad_mode import STATE
from ._core.trace import TRACERS, note_break, note_wrap
from ._device import CPU
from ._format import tensor_repr

_ndarray = np.ndarray


class Size(tuple):
    """The shape of a tensor: a tuple with PyTorch's repr.

    >>> import autojac
    >>> autojac.zeros(2, 3).shape
    autojac.Size([2, 3])
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"autojac.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """A multi-dimensional array that can record operations for differentiation.

    Build tensors with ``autojac.tensor``, ``autojac.zeros`` and friends.

    >>> import autojac
    >>> x = autojac.tensor([1., 2.], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    tensor([2., 4.])
    """

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_vc", "__weakref__", "__dict__")
    # Rarely-set state lives as class defaults (an instance overrides them in its __dict__),
    # which keeps creating a tensor, the per-op hot path, down to four stores.
    _grad = None
    _output_nr = 0
    _hooks = None
    _retains_grad = False
    _base = None
    _fw = None  # forward-mode tangents: {dual level: tangent}
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor's reflected operators

    # ----------------------------------------------------------------- metadata
    @property
    def data(self) -> Tensor:
        """The same storage, detached from the graph."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.FROM_NP[self._data.dtype]

    @property
    def device(self):
        """``device(type='cpu')``: autojac tensors live in host memory."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def element_size(self) -> int:
        return self._data.itemsize

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def contiguous(self, memory_format=None) -> Tensor:
        """Self if already contiguous, else a contiguous copy (recorded like ``clone``)."""
        if self._data.flags.c_contiguous:
            return self
        return self.clone()

    def cpu(self, memory_format=None) -> Tensor:
        """Self: autojac tensors always live in host memory."""
        return self

    def storage_offset(self) -> int:
        """Elements between the start of the storage (the array owning the memory) and this tensor's first."""
        a = self._data
        root = storage_root(a)
        if root is a or not a.size or not root.size:
            return 0
        return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize

    def stride(self, dim: int | None = None):
        """Steps in elements between neighbours along each dim (NumPy's byte strides / itemsize)."""
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    # ----------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; returns self."""
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients "
                f"(got dtype {self.dtype})"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        """The node that produced this tensor (None for a leaf); its type is named as PyTorch's backward
        (``type(y.grad_fn).__name__ == "MulBackward0"``)."""
        fn = self._grad_fn
        if fn is not None and type(fn).__name__ == "Node":
            # nodes are recorded as plain Nodes (one type keeps the engine's attribute reads fast) and
            # take their named type when first shown to the user
            fn.__class__ = fn.op.node_type
        return fn

    @grad_fn.setter
    def grad_fn(self, node) -> None:
        # for code written before the slot became _grad_fn (library code sets _grad_fn directly)
        self._grad_fn = node

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: expected {list(self._data.shape)}, "
                    f"got {list(value._data.shape)}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: expected {self.dtype}, got {value.dtype}"
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self._grad_fn._retain(self._output_nr, weakref.ref(self))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad.

        >>> import autojac
        >>> x = autojac.ones(2, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> x.sum().backward(); x.grad
        tensor([10., 10.])
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            hooks = self._grad_fn._tensor_hooks(self._output_nr)
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph (``requires_grad=False``)."""
        d = self._data
        if type(d) is Batched:  # inside vmap: cut the physical values' graph too
            d = placeholder(d.phys.detach(), d.level, d.bsize)
        t = _wrap(d)
        t._vc = self._vc  # shares storage, so shares the version counter
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place, making it a leaf."""
        if self._base is not None and self._base[0]._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------- conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array holding this tensor's data (shared, not copied).

        As in PyTorch, a tensor that requires grad refuses while grad mode is on (the array
        would silently leave the graph); under ``no_grad``, or with ``force=True``, it is allowed.
        """
        if TRACERS:
            note_break(".numpy() of a tensor")
        if self._requires_grad and not force:
            if STATE.enabled:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                                   "Use tensor.detach().numpy() instead.")
        if type(self._data) is Batched:
            read_batched("NumPy reading a tensor (.numpy(), np.asarray)")
        return self._data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if TRACERS:
            note_break("NumPy reading a tensor (np.asarray, a NumPy function called on it)")
        # np.asarray(t), np.array(t), np.exp(t): the same rule as .numpy()
        a = self.numpy()
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a.copy() if copy else a

    def __array_wrap__(self, array, context=None, return_scalar=False) -> Tensor:
        # a NumPy ufunc applied to a tensor returns a tensor, as in PyTorch (bool results as uint8, as there)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return _wrap(np.asarray(array))

    def tolist(self):
        if TRACERS:
            note_break("tolist() of a tensor")
        return self._data.tolist()

    def item(self):
        if TRACERS:
            note_break(".item() of a tensor")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if TRACERS:
            note_break("bool() of a tensor (data-dependent control flow)")
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()).item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        if self.__dict__.get("_is_param"):  # an nn.Parameter
            return "Parameter containing:\n" + tensor_repr(self)
        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # as in PyTorch, a 0-d tensor formats as its number: f"{loss}" gives "0.25"
        if self._data.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __reduce_ex__(self, protocol) -> tuple:
        return (_rebuild, (self._data, self._requires_grad, self.__dict__.get("_is_param", False)))

    def __deepcopy__(self, memo) -> Tensor:
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.")
        t = _wrap(_deepcopy_array(self._data, memo), self._requires_grad)
        # tensors sharing memory share the copy's memory and version counter, as in PyTorch
        vc = memo.get(id(self._vc))
        if vc is None:
            vc = memo[id(self._vc)] = [0]
            memo.setdefault("_autojac_keep", []).append(self._vc)  # ids stay unique while copying
        t._vc = vc
        if self.__dict__.get("_is_param"):  # a deep-copied nn.Parameter stays a parameter
            t.__dict__["_is_param"] = True
        if self._grad is not None:
            t._grad = _wrap(self._grad._data.copy())
        memo[id(self)] = t
        return t


def storage_root(a: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``a`` views (``a`` itself if it owns it)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _deepcopy_array(a: np.ndarray, memo: dict) -> np.ndarray:
    """A copy of ``a``; arrays viewing the same memory in one deepcopy get views of one copy of it."""
    root = storage_root(a)
    if not root.flags.c_contiguous or not root.size:
        return a.copy()
    key = ("_autojac_storage", id(root))
    new_root = memo.get(key)
    if new_root is None:
        new_root = memo[key] = root.copy()
        memo.setdefault("_autojac_keep", []).append(root)
    if a is root:
        return new_root
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    try:
        return np.ndarray(a.shape, a.dtype, buffer=new_root, offset=offset, strides=a.strides)
    except (ValueError, TypeError):  # a layout the buffer cannot express: an unaliased copy
        return a.copy()




def _rebuild(data, requires_grad, is_param=False) -> Tensor:
    t = _wrap(data, requires_grad)
    if is_param:
        t.__dict__["_is_param"] = True
    return t


class _RemovableHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass


def _wrap(data: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor owning ``data`` (no copy, no checks)."""
    t = _new(Tensor)
    t._data = data
    t._requires_grad = requires_grad
    t._grad_fn = None
    t._vc = [0]
    if TRACERS:
        note_wrap(t)
    return t


_new = object.__new__


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalize a possibly negative dimension, with PyTorch's error."""
    n = ndim if ndim > 0 else 1
    if type(dim) is not int:
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"argument 'dim' must be int, not {type(dim).__name__}")
        dim = int(dim)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim > 0 else 0


def is_tensor(obj: Any) -> bool:
    """True if ``obj`` is an autojac Tensor."""
    return isinstance(obj, Tensor)
