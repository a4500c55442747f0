"""The calculator's one kind of user error: a message, the text it is about, and a caret under the culprit.

>>> print(InputError("unknown name 'os'", "os.system('ls')", 0, 2).format())
autojac: error: unknown name 'os'
  os.system('ls')
  ^^
"""

from __future__ import annotations


class InputError(Exception):
    """A bad expression, value or option: shown as one line, the text, and a caret line (exit code 2)."""

    def __init__(self, message: str, source: str = "", start: int | None = None, end: int | None = None,
                 line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.start = start
        self.end = end
        self.line = line  # 1-based line of ``source`` the columns refer to

    def format(self) -> str:
        out = [f"autojac: error: {self.message}"]
        if self.source:
            lines = self.source.splitlines() or [""]
            text = lines[min(self.line, len(lines)) - 1]
            out.append("  " + text)
            if self.start is not None:
                start = max(0, min(self.start, len(text)))
                end = self.end if self.end is not None and self.end > start else start + 1
                out.append("  " + " " * start + "^" * max(1, min(end, len(text) + 1) - start))
        return "\n".join(out)


def char_column(line: str, byte_offset: int) -> int:
    """The character column of a UTF-8 byte offset (``ast`` reports byte offsets)."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
