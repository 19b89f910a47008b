"""The account (users/me), tweet creation, mentions and recent search."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from .appkeys import DISPATCHER_KEY, STATE_KEY
from .entities import weighted_length
from .errors import (
    ApiError,
    forbidden_detail_body,
    invalid_request,
    json_response,
    not_found_problem,
)
from .params import ID_PATTERN, id_value, int_param, json_body, paginate, time_param
from .payloads import (
    TWEET_EXPANSIONS_KNOWN,
    TWEET_FIELDS_KNOWN,
    USER_EXPANSIONS_KNOWN,
    USER_FIELDS_KNOWN,
    Includes,
    aaa_tweet_payload,
    encode_payload,
    parse_list_param,
    referenced_tweets,
    tweet_v2,
    user_v2,
)
from .query import QueryError, parse_query
from .state import EmulatorState, Tweet

logger = logging.getLogger(__name__)

TWEET_MAX_WEIGHTED_LENGTH = 280


async def get_me(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    user_fields = parse_list_param(request.query, "user.fields", USER_FIELDS_KNOWN)
    parse_list_param(request.query, "expansions", USER_EXPANSIONS_KNOWN)
    parse_list_param(request.query, "tweet.fields", TWEET_FIELDS_KNOWN)
    state.usage.charge("user_read", [state.account.id])
    return json_response({"data": user_v2(state.account, user_fields)})


# X's answer to a reply the author did not summon (self-serve tiers, since 2026-02-23).
NOT_SUMMONED_DETAIL = ("Reply to this conversation is not allowed because you have not been "
                       "mentioned or otherwise engaged by the author of the post you are "
                       "replying to.")


def summons_account(state: EmulatorState, parent: Tweet) -> bool:
    """Did the author of ``parent`` summon the account (x-api/posts/manage-tweets/integrate.mdx:
    "@mentions the replying account" or "quotes a post from" it; a reply to one of its posts
    is taken as "otherwise engaged")?"""
    account = state.account
    if parent.author_id == account.id:
        return False
    quoted = state.tweets.get(parent.quote_of_id or "")
    return (state.mentions_user(parent, account) or parent.in_reply_to_user_id == account.id
            or (quoted is not None and quoted.author_id == account.id))


def post_price_kind(state: EmulatorState, tweet: Tweet) -> str:
    """X's price of a post created: with a URL $0.20 whatever else; a reply to a post that
    summoned the account $0.01; any other post $0.015."""
    if any(entity.kind == "url" for entity in tweet.entities):
        return "post_created_with_url"
    parent = state.tweets.get(tweet.in_reply_to_tweet_id or "")
    if parent is not None and summons_account(state, parent):
        return "post_created_summoned"
    return "post_created"


async def create_tweet(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise invalid_request("$.text: must be a non-empty string (media-only posts are not "
                              "emulated)")
    parent: Tweet | None = None
    reply = body.get("reply")
    if reply is not None:
        parent_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if not isinstance(parent_id, str) or not ID_PATTERN.match(parent_id):
            raise invalid_request("$.reply.in_reply_to_tweet_id: must match ^[0-9]{1,19}$")
        parent = state.tweets.get(parent_id)
        if parent is None:
            raise ApiError(403, forbidden_detail_body(
                "You attempted to reply to a Tweet that is deleted or not visible to you."))
        if (state.config.summoned_replies_only and parent.author_id != state.account.id
                and not summons_account(state, parent)):
            logger.info("x_sandbox.tweet.refused reason=not_summoned in_reply_to=%s", parent.id)
            raise ApiError(403, forbidden_detail_body(NOT_SUMMONED_DETAIL))
    if weighted_length(text) > TWEET_MAX_WEIGHTED_LENGTH:
        raise invalid_request(
            "Your Tweet text is too long. For more information on how Twitter determines "
            "text length see https://github.com/twitter/twitter-text.")
    account = state.account
    if state.config.reject_duplicate_tweets and any(
            t.author_id == account.id and t.text == text for t in state.tweets.values()):
        raise ApiError(403, forbidden_detail_body(
            "You are not allowed to create a Tweet with duplicate content."))
    tweet = state.add_tweet(account, text, in_reply_to=parent, via_api=True)
    state.usage.charge(post_price_kind(state, tweet))
    logger.info("x_sandbox.tweet.created tweet_id=%s in_reply_to=%s", tweet.id,
                tweet.in_reply_to_tweet_id)
    request.app[DISPATCHER_KEY].publish(
        tweet.id, "tweet_create_events", encode_payload(aaa_tweet_payload(tweet, state)),
        deliver=state.concerns_account(tweet))
    location = f"{request.scheme}://{request.host}/2/tweets/{tweet.id}"
    return json_response({"data": {"id": tweet.id, "text": tweet.text}}, 201,
                         headers={"location": location})


@dataclass(frozen=True)
class _SearchView:
    text: str
    author_username: str
    hashtags: frozenset[str]
    mentions: frozenset[str]
    in_reply_to_username: str | None
    is_retweet: bool
    is_quote: bool
    has_links: bool
    lang: str
    conversation_id: str


def _search_view(tweet: Tweet, state: EmulatorState) -> _SearchView:
    replied_to = state.users.get(tweet.in_reply_to_user_id or "")
    return _SearchView(
        text=tweet.text,
        author_username=state.users[tweet.author_id].username,
        hashtags=frozenset(e.value.casefold() for e in tweet.entities if e.kind == "hashtag"),
        mentions=frozenset(e.value.casefold() for e in tweet.entities if e.kind == "mention"),
        in_reply_to_username=replied_to.username if replied_to else None,
        is_retweet=tweet.retweet_of_id is not None,
        is_quote=tweet.quote_of_id is not None,
        has_links=any(e.kind == "url" for e in tweet.entities),
        lang=tweet.lang,
        conversation_id=tweet.conversation_id,
    )


def _time_filters(query: Any) -> Callable[[Tweet], bool]:
    since_id = query.get("since_id")
    until_id = query.get("until_id")
    since = int(id_value(since_id, "since_id")) if since_id is not None else None
    until = int(id_value(until_id, "until_id")) if until_id is not None else None
    start = time_param(query, "start_time")
    end = time_param(query, "end_time")

    def keep(tweet: Tweet) -> bool:
        return ((since is None or int(tweet.id) > since)
                and (until is None or int(tweet.id) < until)
                and (start is None or tweet.created_at >= start)
                and (end is None or tweet.created_at < end))

    return keep


def _tweet_page_response(request: web.Request, tweets: list[Tweet], kind: str,
                         token_name: str, low: int, price_kind: str) -> web.Response:
    state = request.app[STATE_KEY]
    query = request.query
    fields = parse_list_param(query, "tweet.fields", TWEET_FIELDS_KNOWN)
    expansions = parse_list_param(query, "expansions", TWEET_EXPANSIONS_KNOWN)
    user_fields = parse_list_param(query, "user.fields", USER_FIELDS_KNOWN)
    max_results = int_param(query, "max_results", low, 100, 10)
    keep = _time_filters(query)
    token = query.get(token_name) or query.get("pagination_token")
    page, next_token = paginate([t for t in tweets if keep(t)], kind, token, token_name,
                                 max_results)
    if not page:
        return json_response({"meta": {"result_count": 0}})
    state.usage.charge(price_kind, [tweet.id for tweet in page])
    includes = Includes(state, user_fields, fields)
    for tweet in page:
        if "author_id" in expansions:
            includes.add_user(tweet.author_id)
        if "in_reply_to_user_id" in expansions:
            includes.add_user(tweet.in_reply_to_user_id)
        if "entities.mentions.username" in expansions:
            for entity in tweet.entities:
                if entity.kind == "mention":
                    user = state.user_by_username(entity.value)
                    includes.add_user(user.id if user else None)
        if "referenced_tweets.id" in expansions:
            for ref in referenced_tweets(tweet):
                includes.add_tweet(ref["id"])
    body: dict[str, Any] = {"data": [tweet_v2(t, state, fields) for t in page]}
    if includes.as_json():
        body["includes"] = includes.as_json()
    body["meta"] = {"newest_id": page[0].id, "oldest_id": page[-1].id,
                    "result_count": len(page)}
    if next_token:
        body["meta"]["next_token"] = next_token
    return json_response(body)


async def get_mentions(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    user_id = id_value(request.match_info["id"], "id", "path")
    user = state.users.get(user_id)
    if user is None:
        return json_response({"errors": [not_found_problem(
            "user", "id", user_id, f"Could not find user with id: [{user_id}].")]})
    # Retweets are not mentions: the retweeter did not write the @username.
    tweets = [t for t in state.tweets_newest_first()
              if state.mentions_user(t, user) and t.author_id != user.id
              and t.retweet_of_id is None]
    # X's "Owned Reads": the app owner's own mentions cost $0.001 a post, others' $0.005.
    price_kind = "owned_read" if user.id == state.account.id else "post_read"
    return _tweet_page_response(request, tweets, "mentions", "pagination_token", 5,
                                price_kind)


async def search_recent(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    query_text = request.query.get("query", "")
    try:
        tree = parse_query(query_text)
    except QueryError as exc:
        raise invalid_request(str(exc), "query", query_text) from None
    tweets = [t for t in state.tweets_newest_first() if tree.matches(_search_view(t, state))]
    return _tweet_page_response(request, tweets, "search", "next_token", 10, "post_read")
