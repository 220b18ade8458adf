"""The evaluator of preprocessed C constant expressions, types and struct bodies."""
from __future__ import annotations

import pytest

from vmsd_lint.extract.cexpr import Address, evaluate, evaluate_int, parse_members, parse_type
from vmsd_lint.extract.ctypes import Prim, Record, Unresolved, layout
from vmsd_lint.extract.lexer import tokenize


class FakeEnv:
    """A tiny tree: two constants, QEMU-like typedefs and one struct."""

    def __init__(self):
        self.constants = {"NREGS": 8, "FIFO_LEN": 16}
        self.typedefs = {"hwaddr": Prim("uint64_t", 8), "qemu_irq": Prim("void *", 8)}
        members = parse_members(tokenize("uint32_t a; uint8_t regs[NREGS]; hwaddr base; char *name;"), self)
        self.records = {("struct", "DevState"): layout("struct", "DevState", members, False)}
        self.typedefs["DevState"] = self.records[("struct", "DevState")]

    def constant(self, name):
        return self.constants.get(name)

    def typedef(self, name):
        return self.typedefs.get(name)

    def record(self, kind, tag):
        return self.records.get((kind, tag))

    def enum_type(self, tag):
        return Prim("int", 4)


def ev(text: str) -> int:
    return evaluate_int(tokenize(text), FakeEnv())


@pytest.mark.parametrize("text, value", [
    ("7*4", 28), ("1 << 3", 8), ("(1 << 3) | 1", 9), ("NREGS * 4 + FIFO_LEN", 48), ("0x10 - 010", 8),
    ("-1 + 2", 1), ("NREGS > 3 ? 10 : 20", 10), ("!0 && 2", 1), ("10 / 3 % 2", 1), ("2 + 3 * 4", 14),
    ("16U", 16), ("0b101", 5),
])
def test_arithmetic(text, value):
    assert ev(text) == value


@pytest.mark.parametrize("text, value", [
    ("sizeof(int)", 4), ("sizeof(hwaddr)", 8), ("sizeof(char *)", 8), ("sizeof(int[10])", 40),
    ("sizeof(uint16_t[3][2])", 12), ("sizeof(unsigned long long)", 8), ("sizeof(DevState)", 32),
    ("sizeof(struct DevState)", 32),
])
def test_sizeof(text, value):
    assert ev(text) == value


def test_sizeof_of_member_through_null_pointer():
    # what sizeof_field(DevState, regs) and ARRAY_SIZE expand to
    assert ev("sizeof(((DevState *)0)->regs)") == 8
    assert ev("sizeof(((DevState *)0)->regs) / sizeof(((DevState *)0)->regs[0])") == 8
    assert ev("sizeof(((DevState *)0)->base)") == 8
    assert ev("sizeof(typeof(((DevState *)0)->name))") == 8


def test_casts():
    assert ev("(int)sizeof(uint16_t[3])") == 6
    assert ev("(uint32_t)(NREGS + 1)") == 9
    assert ev("(size_t)(unsigned char)3") == 3


def test_casts_truncate_like_c():
    assert ev("(uint8_t)0x1ff") == 0xff


def test_type_check_expression_is_zero_when_types_match():
    # vmstate.h's type_check(t1, t2): ((t1*)0 - (t2*)0)
    assert ev("((uint8_t(*)[NREGS])0 - (typeof(((DevState *)0)->regs)*)0)") == 0


def test_strings_and_addresses():
    env = FakeEnv()
    assert evaluate(tokenize('"serial"'), env) == "serial"
    assert evaluate(tokenize('("a" "b")'), env) == "ab"
    assert evaluate(tokenize("&vmstate_foo"), env) == Address("vmstate_foo")
    assert evaluate(tokenize("&(vmstate_foo)"), env) == Address("vmstate_foo")


def test_unknown_constant_is_unresolved():
    with pytest.raises(Unresolved, match="UNKNOWN"):
        ev("UNKNOWN + 1")


def test_struct_layout_with_padding_and_arrays():
    env = FakeEnv()
    rec = env.record("struct", "DevState")
    assert isinstance(rec, Record)
    assert rec.members["regs"].size == 8
    assert rec.size == 32  # 4 + 8 + pad 4 + 8 + 8
    assert parse_type(tokenize("const hwaddr *"), env).size == 8
