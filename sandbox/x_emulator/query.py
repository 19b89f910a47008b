"""A subset of X's search query language, for ``GET /2/tweets/search/recent``.

Supported: keywords, "exact phrases", ``#hashtag``, ``@username``, ``from:``, ``to:``,
``is:retweet``, ``is:reply``, ``is:quote``, ``has:mentions``, ``has:hashtags``,
``has:links``, ``lang:``, ``conversation_id:``, negation with ``-``, ``OR`` and parentheses.
As on X, AND (a space) binds tighter than OR, matching is case-insensitive, ``is:``/``has:``/
``lang:`` cannot stand alone, and an unknown ``operator:`` is a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

MAX_QUERY_LENGTH = 512
_STANDALONE = {"keyword", "phrase", "hashtag", "mention", "from", "to", "conversation_id"}
_OPERATORS = {"from", "to", "is", "has", "lang", "conversation_id"}
_IS_VALUES = {"retweet", "reply", "quote"}
_HAS_VALUES = {"mentions", "hashtags", "links"}
_OPERATOR_LIKE = re.compile(r"^([a-z_]+):(.+)$")


class QueryError(ValueError):
    """The query is not valid; the message is the one returned to the client."""


class Searchable(Protocol):
    """What a tweet must expose to be matched."""

    text: str
    author_username: str
    hashtags: frozenset[str]  # lower-case, without '#'
    mentions: frozenset[str]  # lower-case, without '@'
    in_reply_to_username: str | None
    is_retweet: bool
    is_quote: bool
    has_links: bool
    lang: str
    conversation_id: str


@dataclass
class Term:
    kind: str
    value: str
    negated: bool = False

    def matches(self, tweet: Searchable) -> bool:
        return self._test(tweet) != self.negated

    def _test(self, tweet: Searchable) -> bool:
        value = self.value.casefold()
        if self.kind in ("keyword", "phrase"):
            pattern = r"(?<!\w)" + re.escape(value) + r"(?!\w)"
            return re.search(pattern, tweet.text.casefold()) is not None
        if self.kind == "hashtag":
            return value in tweet.hashtags
        if self.kind == "mention":
            return value in tweet.mentions
        if self.kind == "from":
            return tweet.author_username.casefold() == value
        if self.kind == "to":
            return (tweet.in_reply_to_username or "").casefold() == value
        if self.kind == "is":
            return {"retweet": tweet.is_retweet, "quote": tweet.is_quote,
                    "reply": tweet.in_reply_to_username is not None}[value]
        if self.kind == "has":
            return {"mentions": bool(tweet.mentions), "hashtags": bool(tweet.hashtags),
                    "links": tweet.has_links}[value]
        if self.kind == "lang":
            return tweet.lang.casefold() == value
        if self.kind == "conversation_id":
            return tweet.conversation_id == self.value
        raise AssertionError(self.kind)

    def positive_standalone(self) -> bool:
        return not self.negated and self.kind in _STANDALONE


@dataclass
class Group:
    operator: str  # "AND" | "OR"
    children: list = field(default_factory=list)
    negated: bool = False

    def matches(self, tweet: Searchable) -> bool:
        combine = all if self.operator == "AND" else any
        return combine(child.matches(tweet) for child in self.children) != self.negated

    def positive_standalone(self) -> bool:
        if self.negated:
            return False
        if self.operator == "AND":
            return any(child.positive_standalone() for child in self.children)
        return all(child.positive_standalone() for child in self.children)


def _tokenize(query: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(query):
        char = query[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append(char)
            position += 1
        elif char == "-" and position + 1 < len(query) and not query[position + 1].isspace():
            tokens.append("-")
            position += 1
        elif char == '"':
            end = query.find('"', position + 1)
            if end == -1:
                raise QueryError("There were errors processing your request: "
                                 f"Unterminated quoted phrase (at position {position + 1})")
            tokens.append(query[position:end + 1])
            position = end + 1
        else:
            end = position
            while end < len(query) and not query[end].isspace() and query[end] not in '()"':
                end += 1
            tokens.append(query[position:end])
            position = end
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse_or(self):
        children = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Group("OR", children)

    def parse_and(self):
        children = []
        while self.peek() not in (None, ")", "OR"):
            children.append(self.parse_unary())
        if not children:
            raise QueryError("There were errors processing your request: "
                             "Ambiguous use of OR or empty group")
        return children[0] if len(children) == 1 else Group("AND", children)

    def parse_unary(self):
        negated = False
        if self.peek() == "-":
            self.take()
            negated = True
        node = self.parse_atom()
        node.negated = node.negated != negated
        return node

    def parse_atom(self):
        token = self.take()
        if token == "(":
            node = self.parse_or()
            if self.peek() != ")":
                raise QueryError("There were errors processing your request: "
                                 "Missing closing parenthesis")
            self.take()
            return node if isinstance(node, Group) else Group("AND", [node])
        if token in (")", "-"):
            raise QueryError(f"There were errors processing your request: Unexpected '{token}'")
        return _term(token)


def _term(token: str) -> Term:
    if token.startswith('"'):
        return Term("phrase", token[1:-1])
    if token[0] in "#\uff03" and len(token) > 1:
        return Term("hashtag", token[1:])
    if token[0] in "@\uff20" and len(token) > 1:
        return Term("mention", token[1:])
    match = _OPERATOR_LIKE.match(token)
    if match:
        operator, value = match.group(1), match.group(2)
        if operator not in _OPERATORS:
            raise QueryError("There were errors processing your request: "
                             f"Reference to invalid operator '{operator}'")
        if operator == "is" and value not in _IS_VALUES:
            raise QueryError(f"There were errors processing your request: "
                             f"Reference to invalid field 'is:{value}'")
        if operator == "has" and value not in _HAS_VALUES:
            raise QueryError(f"There were errors processing your request: "
                             f"Reference to invalid field 'has:{value}'")
        if operator in ("from", "to"):
            value = value.lstrip("@")
        return Term(operator, value)
    return Term("keyword", token)


def parse_query(query: str):
    """Parse ``query`` into a tree with a ``matches(tweet)`` method, or raise QueryError."""
    if not query.strip():
        raise QueryError("The `query` query parameter can not be empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"The `query` query parameter value is longer than {MAX_QUERY_LENGTH}")
    parser = _Parser(_tokenize(query))
    tree = parser.parse_or()
    if parser.peek() is not None:
        raise QueryError("There were errors processing your request: "
                         f"Unexpected '{parser.peek()}'")
    if not tree.positive_standalone():
        raise QueryError("There were errors processing your request: Rules must contain "
                         "a non-negation term (at position 1)")
    return tree
