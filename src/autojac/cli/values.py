"""Values for ``--at NAME=VALUE`` and ``--v VALUE``: literals, constructor calls, or .npy/.npz/.csv files.

>>> parse_binding("x=[2., 3.]", {})
('x', tensor([2., 3.]))
>>> parse_value("arange(3.)", {})
tensor([0., 1., 2.])
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

import autojac

from .errors import InputError
from .expr import MAX_ELEMENTS, RESERVED, Program

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FILE_SUFFIXES = (".npy", ".npz", ".csv")


def binding_name(text: str, option: str = "--at") -> str:
    """The NAME of ``NAME=VALUE``, checked (a plain name, not an autojac function); nothing is evaluated."""
    name, sep, _ = text.partition("=")
    name = name.strip()
    if not sep:
        raise InputError(f"{option} expects NAME=VALUE, e.g. {option} x=[1.,2.]", text, 0, len(text))
    if not _NAME.match(name):
        raise InputError(f"{option}: '{name}' is not a plain name (letters, digits, '_'; not starting with '_')",
                         text, 0, max(1, len(name)))
    if name in RESERVED:
        raise InputError(f"{option}: '{name}' names an autojac function or constant; choose another name",
                         text, 0, len(name))
    return name


def parse_binding(text: str, env: dict[str, Any], option: str = "--at") -> tuple[str, autojac.Tensor]:
    """``NAME=VALUE`` -> (name, tensor); earlier bindings in ``env`` may be used in VALUE."""
    name = binding_name(text, option)
    value = text.partition("=")[2]
    if name in env:
        raise InputError(f"{option}: '{name}' is bound twice", text, 0, len(name))
    try:
        return name, parse_value(value, env, name)
    except InputError as e:
        if e.source == value and e.start is not None:  # point into the whole NAME=VALUE text
            raise InputError(e.message, text, e.start + len(text) - len(value), (e.end or e.start + 1)
                             + len(text) - len(value)) from None
        raise


def parse_value(text: str, env: dict[str, Any], name: str = "value") -> autojac.Tensor:
    """A tensor from a literal, an expression of constructors (``randn(2, 3)``) or a data file."""
    stripped = text.strip()
    if stripped.lower().endswith(_FILE_SUFFIXES):
        return _from_file(stripped, name)
    value = Program(text, list(env), what="value").run(dict(env))
    if isinstance(value, autojac.Tensor):
        return value
    try:
        return autojac.tensor(value)
    except Exception as e:
        raise InputError(f"value is not a number or a (nested) list of numbers: {e}", text, 0, len(text)) from None


def _from_file(path_text: str, name: str) -> autojac.Tensor:
    path = Path(path_text)
    if not path.exists():
        raise InputError(f"no such file: {path_text}", path_text, 0, len(path_text))
    try:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            array = np.loadtxt(path, delimiter=",", ndmin=1, dtype=np.float64)
            if array.ndim == 2 and array.shape[0] == 1:
                array = array[0]
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                if name in keys:
                    array = archive[name]
                elif len(keys) == 1:
                    array = archive[keys[0]]
                else:
                    raise InputError(f"{path_text} holds {len(keys)} arrays ({', '.join(keys)}) and none is "
                                     f"named '{name}'", path_text, 0, len(path_text))
        else:
            array = np.load(path, allow_pickle=False)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"cannot read {path_text}: {e}", path_text, 0, len(path_text)) from None
    if array.size > MAX_ELEMENTS:
        raise InputError(f"{path_text} has {array.size:,} elements (the limit is {MAX_ELEMENTS:,})", path_text)
    if array.dtype.kind not in "biufc":
        raise InputError(f"{path_text} holds {array.dtype} data, not numbers", path_text, 0, len(path_text))
    return autojac.from_numpy(np.ascontiguousarray(array))
