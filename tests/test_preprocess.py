"""The C preprocessor: tokenizer and macro expander."""
from __future__ import annotations

import pytest

from vmsd_lint.extract.lexer import DIRECTIVE, IDENT, NUMBER, PUNCT, STRING, join_tokens, tokenize
from vmsd_lint.extract.preprocess import ExpansionError, expand, make_macro


def macros(*defs: tuple[str, tuple[str, ...] | None, str]):
    table = {name: make_macro(name, params, body, f"test.h:{i}") for i, (name, params, body) in enumerate(defs)}
    return table.get


def run(text: str, lookup) -> str:
    return join_tokens(expand(tokenize(text), lookup))


# -- lexer ------------------------------------------------------------------------------

def test_tokenize_kinds_and_lines():
    toks = tokenize('a = 0x1fU; /* c\n */ s = "x\\"y";\n// end\nb->c')
    assert [(t.kind, t.text) for t in toks] == [
        (IDENT, "a"), (PUNCT, "="), (NUMBER, "0x1fU"), (PUNCT, ";"), (IDENT, "s"), (PUNCT, "="),
        (STRING, '"x\\"y"'), (PUNCT, ";"), (IDENT, "b"), (PUNCT, "->"), (IDENT, "c")]
    assert [t.line for t in toks] == [1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4]


def test_tokenize_line_continuation_and_directives():
    toks = tokenize("#if FOO \\\n  && BAR\nx\n", directives=True)
    assert toks[0].kind == DIRECTIVE and toks[0].text == "#if FOO && BAR"
    assert toks[1].text == "x" and toks[1].line == 3


# -- expansion -------------------------------------------------------------------------

def test_object_and_function_macros():
    lookup = macros(("FOO", None, "42"), ("ADD", ("a", "b"), "((a) + (b))"))
    assert run("FOO", lookup) == "42"
    assert run("ADD(FOO, 1)", lookup) == "((42) + (1))"
    assert run("ADD", lookup) == "ADD"  # a function-like macro without '(' is plain


def test_stringify_does_not_expand_but_xstringify_does():
    lookup = macros(("stringify", ("s",), "tostring(s)"), ("tostring", ("s",), "#s"), ("FOO", None, "42"),
                    ("str", ("x",), "#x"))
    assert run("str(FOO)", lookup) == '"FOO"'
    assert run("stringify(FOO)", lookup) == '"42"'
    assert run('str(a "b" c)', lookup) == '"a \\"b\\" c"'
    assert run("str(s.a[1])", lookup) == '"s.a[1]"'


def test_token_pasting():
    lookup = macros(("cat", ("a", "b"), "a ## b"), ("VMSTATE_INFO", ("t",), "vmstate_info_ ## t"),
                    ("X", None, "never"))
    assert run("cat(my, var)", lookup) == "myvar"
    assert run("cat(1, 2)", lookup) == "12"
    assert run("VMSTATE_INFO(uint8)", lookup) == "vmstate_info_uint8"
    assert run("cat(X, X)", lookup) == "XX"  # operands of ## are not expanded first


def test_variadics():
    lookup = macros(("V", ("fmt", "..."), "f(fmt, ## __VA_ARGS__)"), ("N", ("a", "rest..."), "g(a, rest)"),
                    ("C", ("...",), "h(__VA_ARGS__)"))
    assert run("V(1)", lookup) == "f(1)"
    assert run("V(1, 2, 3)", lookup) == "f(1, 2, 3)"
    assert run("N(1, 2, 3)", lookup) == "g(1, 2, 3)"
    assert run("C((a, b), c)", lookup) == "h((a, b), c)"


def test_nested_parentheses_and_braces_in_arguments():
    lookup = macros(("F", ("a", "b"), "[a|b]"))
    assert run("F((1, 2), {3, 4})", lookup) == "[(1, 2)|{3, 4}]"


def test_recursion_guard():
    lookup = macros(("R", None, "R + 1"), ("A", None, "B"), ("B", None, "A"), ("f", ("x",), "f(x + 1)"))
    assert run("R", lookup) == "R + 1"
    assert run("A", lookup) == "A"
    assert run("f(0)", lookup) == "f(0 + 1)"


def test_expansion_keeps_invocation_line():
    lookup = macros(("M", ("x",), "{ .name = #x,\n .size = 4 }"))
    toks = expand(tokenize("\n\nM(foo)"), lookup)
    assert {t.line for t in toks} == {3}


def test_runaway_expansion_is_an_error():
    lookup = macros(("A", None, "B B B B B B B B B B"), ("B", None, "C C C C C C C C C C"),
                    ("C", None, "D D D D D D D D D D"), ("D", None, "E E E E E E E E E E"),
                    ("E", None, "x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x"))
    with pytest.raises(ExpansionError):
        expand(tokenize("A A A A A A A A A A"), lookup)


def test_unterminated_arguments_are_an_error():
    lookup = macros(("F", ("a",), "a"))
    with pytest.raises(ExpansionError):
        expand(tokenize("F(1, (2"), lookup)
