"""vmsd-lint: find QEMU live-migration breaks in the source, before they ship."""

__version__ = "0.1.0"
