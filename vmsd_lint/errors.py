"""Errors that end a run with exit status 2 and one clear line (never a traceback)."""


class InputError(Exception):
    """The input or the invocation is wrong: unknown revision, unreadable file, ..."""


class ChildDied(Exception):
    """A process of the run (a worker, the second resolver, the process extracting NEW)
    ended without its result, e.g. killed by the out-of-memory killer: exit status 2."""
