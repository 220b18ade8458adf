"""A construct of the build files that the model could not evaluate, with its place."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    message: str

    @classmethod
    def at(cls, where: str, message: str) -> Diagnostic:
        """From a "file:line" place (or a bare name, line 0)."""
        file, sep, line = where.rpartition(":")
        if sep and line.isdigit():
            return cls(file, int(line), message)
        return cls(where, 0, message)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"
