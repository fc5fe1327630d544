"""Parse a query with the lark grammar (``grammar.lark``) into the typed tree of
:mod:`modelatlas.search.ast`. Limits come first, so no input costs more than it should."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import cast

from lark import Lark, Token, Transformer, Tree, UnexpectedInput, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from modelatlas.errors import FieldError, InvalidInput
from modelatlas.search.ast import And, Everything, Node, Not, Or, Text, walk
from modelatlas.search.fields import QueryError, build_term
from modelatlas.search.fulltext import fulltext_tokens

MAX_LENGTH = 2000
MAX_DEPTH = 20

# What a person would call the tokens lark names in "expected ...".
_TOKEN_NAMES = {
    "FIELD": "a field (kind:, meta.x:, ...)", "WORD": "a word", "PHRASE": "a \"quoted phrase\"",
    "VALUE": "a value", "OP": "an operator (:, >=, <, ...)", "LPAR": "'('", "RPAR": "')'",
    "MINUS": "'-'", "_NOT": "NOT", "_AND": "AND", "_OR": "OR", "$END": "the end of the query",
}


class QuerySyntaxError(InvalidInput):
    """The query does not follow the grammar; ``detail`` names the column and what the
    parser expected there."""

    code = "query_syntax"
    title = "Query syntax error"
    remedy = "See docs/query-language.md for the grammar and examples."

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None,
                 column: int = 0, expected: list[str] | None = None) -> None:
        # (detail, errors) alone is how the SDK rebuilds it from a problem document
        super().__init__(detail, errors=errors or [FieldError("/q", detail)])
        self.column = column
        self.expected = list(expected or [])


@cache
def _lark(*, positions: bool = False) -> Lark:
    """A parser that builds lark's parse tree: only for the column of a query nested too
    deep, which needs each node's position (``positions``)."""
    return Lark(_grammar(), parser="lalr", lexer="contextual", propagate_positions=positions,
                maybe_placeholders=False)


@cache
def _building() -> Lark:
    """The parser that builds the query's tree as it reduces each rule (lark's LALR
    ``transformer``): no parse tree is built and then walked again, which was 40% of
    parsing a short query. The one transformer serves every thread; what a parse needs
    of its own (the clock, the depths) is in :data:`_PARSING`."""
    return Lark(_grammar(), parser="lalr", lexer="contextual", maybe_placeholders=False,
                transformer=_ToAst())


@cache
def _grammar() -> str:
    return files("modelatlas.search").joinpath("grammar.lark").read_text()


class _Parsing(threading.local):
    """The parse in progress on this thread: its clock (for relative dates) and how deep
    each node built so far is nested (by ``id``: every node is alive until the parse
    ends, held by the parser's stack or by its parent)."""

    now: datetime
    depths: dict[int, int]


_PARSING = _Parsing()


class _TooDeep(Exception):
    """A node nests deeper than MAX_DEPTH: raised as the parser reduces it, so no query
    costs more than MAX_DEPTH levels of work."""


def parse(query: str, *, now: datetime | None = None) -> Node:
    """The tree of ``query``, or a 422 naming the column of the first problem."""
    if len(query) > MAX_LENGTH:
        raise InvalidInput(
            f"the query is {len(query)} characters; at most {MAX_LENGTH}",
            errors=[FieldError("/q", f"column {MAX_LENGTH + 1}: too long")],
        )
    _PARSING.now, _PARSING.depths = now or datetime.now(UTC), {}
    try:
        node = cast(Node, _building().parse(query))  # the transformer's node, not a Tree
    except UnexpectedInput as exc:
        raise _syntax_error(query, exc) from None
    except _TooDeep:
        raise _nested_too_deep(query) from None
    finally:
        _PARSING.depths = {}
    searchable = _without_wordless(node)
    if searchable is None:
        first = next(n for n in walk(node) if isinstance(n, Text))
        raise QueryError.at_column(
            first.column, f"{first.text!r} has no word to search for: type letters or digits")
    return searchable


def _nested_too_deep(query: str) -> InvalidInput:
    """The error for a query nested too deep, naming the column of its first level too
    many: found by parsing again with positions (only on this path: positions cost a
    third of a parse)."""
    too_deep = _too_deep(_lark(positions=True).parse(query))
    column = getattr(getattr(too_deep, "meta", None), "column", 1)
    return InvalidInput(
        f"column {column}: the query nests deeper than {MAX_DEPTH} levels",
        errors=[FieldError("/q", f"column {column}: nested too deep")],
    )


def _without_wordless(node: Node) -> Node | None:
    """``node`` without the free text that holds no searchable word (``&``, an emoji):
    the full-text index has nothing to look up for it, so it is dropped, as a search
    engine drops punctuation, instead of refusing the query around it. ``None`` when
    nothing is left."""
    if isinstance(node, Text):
        return node if fulltext_tokens(node.text) else None
    if isinstance(node, Not):
        operand = _without_wordless(node.operand)
        return None if operand is None else Not(operand)
    if isinstance(node, And | Or):
        kept = tuple(k for n in node.operands if (k := _without_wordless(n)) is not None)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else type(node)(kept)
    return node


def _syntax_error(query: str, exc: UnexpectedInput) -> QuerySyntaxError:
    at_end = isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    )
    column = exc.column if isinstance(exc.column, int) and exc.column > 0 else 0
    if at_end or column < 1:
        column = len(query) + 1
    expected: list[str] = []
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        expected = sorted({_TOKEN_NAMES.get(t, t) for t in exc.expected})
    elif isinstance(exc, UnexpectedCharacters):
        expected = sorted({_TOKEN_NAMES.get(t, t) for t in exc.allowed or ()})
    found = _found(query, column)
    wanted = f"; expected {', '.join(expected)}" if expected else ""
    return QuerySyntaxError(f"column {column}: unexpected {found}{wanted}", column=column,
                            expected=expected)


def _found(query: str, column: int) -> str:
    if column > len(query):
        return "end of query"
    char = query[column - 1]
    if char == '"':
        return "'\"' (a quote that is never closed?)"
    return repr(char)


def _too_deep(tree: Tree[Token]) -> Tree[Token] | None:
    """The first node deeper than MAX_DEPTH in lark's tree (levels as
    :meth:`_ToAst.nested` counts them); None when there is none."""
    pending: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if node.data in ("negate", "group", "and_expr", "or_expr"):
            depth += 1
        if depth > MAX_DEPTH:
            return node
        pending.extend((child, depth) for child in node.children if isinstance(child, Tree))
    return None


def _unquote(phrase: str) -> str:
    body = phrase[1:-1]
    out: list[str] = []
    escaped = False
    for char in body:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


@v_args(inline=True)
class _ToAst(Transformer[Token, Node]):
    """Each rule's node, built as the parser reduces it (see :func:`_building`)."""

    def start(self, expr: Node | None = None) -> Node:
        return Everything() if expr is None else expr

    def or_expr(self, *operands: Node) -> Node:
        return self.nested(Or(tuple(operands)), operands)

    def and_expr(self, *operands: Node) -> Node:
        return self.nested(And(tuple(operands)), operands)

    def negate(self, *parts: Node | Token) -> Node:
        operand = parts[-1]
        assert not isinstance(operand, Token)
        return self.nested(Not(operand), (operand,))

    def group(self, expr: Node) -> Node:
        return self.nested(expr, (expr,))

    def word(self, token: Token) -> Node:
        return Text(str(token), False, _column(token))

    def phrase(self, token: Token) -> Node:
        text = _unquote(str(token))
        if not text.strip():
            raise QueryError.at_column(_column(token), "an empty phrase")
        return Text(text, True, _column(token))

    def term(self, field: Token, op: Token, value: Token) -> Node:
        text = _unquote(str(value)) if value.type == "PHRASE" else str(value)
        return build_term(str(field), str(op), text, _column(field), now=_PARSING.now)

    @staticmethod
    def nested(node: Node, inner: tuple[Node, ...]) -> Node:
        """``node``, one level deeper than the deepest of ``inner`` (a group is a level
        too, though it builds no node of its own); :class:`_TooDeep` past MAX_DEPTH."""
        depths = _PARSING.depths
        depth = 1 + max(depths.get(id(n), 0) for n in inner)
        if depth > MAX_DEPTH:
            raise _TooDeep
        depths[id(node)] = depth
        return node


def _column(token: Token) -> int:
    return token.column if isinstance(token.column, int) else 1
