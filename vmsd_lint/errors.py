"""Errors that end a run with exit status 2 and one clear line (never a traceback)."""


class InputError(Exception):
    """The input or the invocation is wrong: unknown revision, unreadable file, ..."""
