"""Named tuples printed as PyTorch prints ``torch.return_types.<name>`` (``sort``, ``cummax``, ``slogdet``...)."""

from __future__ import annotations

from collections import namedtuple


def return_type(name: str, fields=("values", "indices"), class_name: str | None = None) -> type:
    """A namedtuple class ``name`` with ``fields`` whose repr is PyTorch's, one field a line
    (the class is called ``class_name``, by default ``_Return_<name>``).

    >>> import autojac
    >>> Sort = return_type("sort")
    >>> Sort(autojac.tensor([1.0]), autojac.tensor([0]))
    autojac.return_types.sort(
    values=tensor([1.]),
    indices=tensor([0]))
    """
    fields = tuple(fields)
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"autojac.return_types.{name}(\n{body})"

    return type(class_name or f"_Return_{name}", (base,), {"__slots__": (), "__repr__": __repr__})
