"""Compare two wire schemas and report every change that breaks migration.

sections.py matches top-level sections, vmsds.py compares one VMSD with its
counterpart (versions, subsections), fields.py aligns and classifies fields,
semantics.py holds QEMU's load/save rules, engine.py collects the findings.
"""
from .sections import compare

__all__ = ["compare"]
