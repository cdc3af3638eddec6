"""The Bot API test server itself, spoken to over HTTP the way python-telegram-bot does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.botapi import TEST_TOKEN, BotApiServer

USER = 77


@pytest.fixture
def client(api: BotApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{api.base_url}{TEST_TOKEN}/", timeout=10) as c:
        yield c


def call(client: httpx.Client, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """Form-encoded, non-string values as JSON: how PTB sends every request."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    response = client.post(method, data=data)
    return response.status_code, response.json()


def test_get_me_describes_an_inline_capable_bot(client: httpx.Client) -> None:
    status, body = call(client, "getMe")
    assert status == 200
    assert body["result"]["is_bot"] is True
    assert body["result"]["supports_inline_queries"] is True


def test_wrong_token_and_unknown_method(api: BotApiServer, client: httpx.Client) -> None:
    response = httpx.post(f"{api.base_url}123:wrong/getMe")
    assert response.status_code == 401
    status, body = call(client, "sendTelepathy")
    assert status == 404
    assert body["ok"] is False


def test_send_message_needs_a_known_chat(client: httpx.Client) -> None:
    status, body = call(client, "sendMessage", chat_id=5, text="hi")
    assert status == 400
    assert body["description"] == "Bad Request: chat not found"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "message text is empty"),
        ("   \n ", "message text is empty"),
        ("<b></b>", "message text is empty"),
        ("x" * 4097, "message is too long"),
        ("😀" * 2049, "message is too long"),  # 4098 UTF-16 units
        ("<div>x</div>", "can't parse entities: Unsupported start tag"),
        ("<b>x", "can't parse entities: Can't find end tag"),
        ("<b><i>x</b></i>", "can't parse entities: Unmatched end tag"),
        ("AT&T", "can't parse entities: Unsupported HTML entity"),
        ("1 < 2", "can't parse entities: Unexpected '<'"),
        ("&nbsp;", "can't parse entities: Unsupported HTML entity"),
        ('<a href="javascript:alert(1)">x</a>', "Wrong HTTP URL"),
        ('<span class="red">x</span>', 'must have class "tg-spoiler"'),
        ("<b onclick='x'>x</b>", 'Unsupported attribute "onclick"'),
        ("<blockquote>a<blockquote>b</blockquote></blockquote>", "Nested blockquote"),
        ("<code><b>x</b></code>", 'Tag "b" inside "code"'),
    ],
)
def test_text_is_checked_like_telegram(
    api: BotApiServer, client: httpx.Client, text: str, error: str
) -> None:
    api.private_message(USER, "hello")
    status, body = call(client, "sendMessage", chat_id=USER, text=text, parse_mode="HTML")
    assert status == 400
    assert error in body["description"]


def test_valid_html_is_accepted_and_its_visible_text_counted(
    api: BotApiServer, client: httpx.Client
) -> None:
    api.private_message(USER, "hello")
    markup = (
        '<b>bold</b> &lt;tag&gt; &amp; &quot;q&quot; &#128512; <a href="https://x.org/?a=1&amp;b=2">'
        "link</a> <blockquote expandable>quote</blockquote> <pre><code "
        'class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler>'
    )
    status, body = call(client, "sendMessage", chat_id=USER, text=markup, parse_mode="HTML")
    assert status == 200, body
    [sent] = api.sent(USER)
    assert sent.text == 'bold <tag> & "q" 😀 link quote x = 1 s'
    assert sent.html == markup
    # Exactly 4096 visible units pass, whatever the markup adds.
    status, _ = call(
        client, "sendMessage", chat_id=USER, text=f"<b>{'&amp;' * 4096}</b>", parse_mode="HTML"
    )
    assert status == 200


def test_callback_data_over_64_bytes_is_refused(api: BotApiServer, client: httpx.Client) -> None:
    api.private_message(USER, "hello")
    for data, expected in [("x" * 64, 200), ("x" * 65, 400), ("é" * 33, 400), ("", 400)]:
        markup = {"inline_keyboard": [[{"text": "More", "callback_data": data}]]}
        status, body = call(client, "sendMessage", chat_id=USER, text="t", reply_markup=markup)
        assert status == expected, (data, body)
        if status == 400:
            assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"


def test_edits_need_an_existing_bot_message_and_a_change(
    api: BotApiServer, client: httpx.Client
) -> None:
    user_message = api.private_message(USER, "hello")
    _, body = call(client, "sendMessage", chat_id=USER, text="one")
    message_id = body["result"]["message_id"]
    status, body = call(client, "editMessageText", chat_id=USER, message_id=999, text="x")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")
    status, body = call(
        client, "editMessageText", chat_id=USER, message_id=user_message["message_id"], text="x"
    )
    assert (status, body["description"]) == (400, "Bad Request: message can't be edited")
    status, _ = call(client, "editMessageText", chat_id=USER, message_id=message_id, text="two")
    assert status == 200
    status, body = call(client, "editMessageText", chat_id=USER, message_id=message_id, text="two")
    assert status == 400
    assert "message is not modified" in body["description"]
    assert api.message(USER, message_id).text == "two"
    assert api.message(USER, message_id).edits == 1


def test_get_updates_confirms_with_offset(api: BotApiServer, client: httpx.Client) -> None:
    first = api.private_message(USER, "one")
    api.private_message(USER, "two")
    _, body = call(client, "getUpdates")
    ids = [u["update_id"] for u in body["result"]]
    assert len(ids) == 2
    assert body["result"][0]["message"]["text"] == first["text"]
    _, body = call(client, "getUpdates", offset=ids[0] + 1)
    assert [u["update_id"] for u in body["result"]] == ids[1:]
    _, body = call(client, "getUpdates", offset=ids[1] + 1, timeout=0)
    assert body["result"] == []
    assert api.pending_updates == 0


def test_long_poll_waits_for_an_update_or_the_timeout(
    api: BotApiServer, client: httpx.Client
) -> None:
    started = time.monotonic()
    _, body = call(client, "getUpdates", timeout=1)
    assert body["result"] == []
    assert time.monotonic() - started >= 0.9
    timer = threading.Timer(0.2, lambda: api.private_message(USER, "wake up"))
    timer.start()
    started = time.monotonic()
    _, body = call(client, "getUpdates", timeout=5)
    timer.join()
    assert time.monotonic() - started < 2
    assert body["result"][0]["message"]["text"] == "wake up"


def test_injected_messages_carry_telegram_entities(api: BotApiServer) -> None:
    message = api.group_message(-100, USER, "/ask@TechBriefTestBot 😀 hi @TechBriefTestBot!")
    assert message["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 21},
        {"type": "mention", "offset": 28, "length": 17},  # the emoji counts 2 UTF-16 units
    ]


def test_429_and_403_on_demand(api: BotApiServer, client: httpx.Client) -> None:
    api.private_message(USER, "hello")
    api.fail_next("sendMessage", retry_after=3)
    status, body = call(client, "sendMessage", chat_id=USER, text="x")
    assert status == 429
    assert body["parameters"] == {"retry_after": 3}
    assert call(client, "sendMessage", chat_id=USER, text="x")[0] == 200
    api.block(USER)
    status, body = call(client, "sendMessage", chat_id=USER, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")


def test_queries_are_answered_once(api: BotApiServer, client: httpx.Client) -> None:
    api.private_message(USER, "hello")
    _, body = call(client, "sendMessage", chat_id=USER, text="card")
    sent = api.sent(USER)[0]
    query_id = api.press(sent, "m:x:1")
    assert call(client, "answerCallbackQuery", callback_query_id=query_id)[0] == 200
    status, body = call(client, "answerCallbackQuery", callback_query_id=query_id)
    assert status == 400
    assert "query is too old" in body["description"]
    status, _ = call(client, "answerCallbackQuery", callback_query_id="nope")
    assert status == 400


def test_inline_answers_are_checked(api: BotApiServer, client: httpx.Client) -> None:
    def article(i: int, text: str = "card") -> dict[str, Any]:
        return {
            "type": "article",
            "id": str(i),
            "title": "t",
            "input_message_content": {"message_text": text, "parse_mode": "HTML"},
        }

    too_many = api.inline_query(USER, "q")
    status, body = call(
        client,
        "answerInlineQuery",
        inline_query_id=too_many,
        results=[article(i) for i in range(51)],
    )
    assert (status, body["description"]) == (400, "Bad Request: RESULTS_TOO_MUCH")
    bad_html = api.inline_query(USER, "q")
    status, body = call(
        client, "answerInlineQuery", inline_query_id=bad_html, results=[article(1, "<x>")]
    )
    assert status == 400
    assert "can't parse entities" in body["description"]
    good = api.inline_query(USER, "q")
    status, _ = call(
        client, "answerInlineQuery", inline_query_id=good, results=[article(1, "<b>card</b>")]
    )
    assert status == 200
    posted = api.choose_inline_result(good, "1", chat_id=-500)
    assert posted["text"] == "card"
    assert posted["via_bot"]["username"] == "TechBriefTestBot"


def test_commands_are_recorded_by_scope(api: BotApiServer, client: httpx.Client) -> None:
    commands = [{"command": "ask", "description": "Ask"}]
    assert call(client, "setMyCommands", commands=commands)[0] == 200
    status, body = call(
        client, "setMyCommands", commands=commands, scope={"type": "chat", "chat_id": USER}
    )
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    status, _ = call(client, "setMyCommands", commands=[{"command": "Ask!", "description": "x"}])
    assert status == 400
    assert api.commands == {"default": commands}


# -- webhooks ---------------------------------------------------------------------------------


class _Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it is posted and answers ``status``."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.posts: list[tuple[str, dict[str, Any], str | None]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                secret = self.headers.get("X-Telegram-Bot-Api-Secret-Token")
                receiver.posts.append((self.path, json.loads(body), secret))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    endpoint = _Receiver()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def _eventually(probe: Any, within: float = 10) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {probe}")


def test_a_webhook_gets_each_update_with_the_secret_and_polling_conflicts(
    api: BotApiServer, client: httpx.Client, receiver: _Receiver
) -> None:
    status, _ = call(client, "setWebhook", url=receiver.url, secret_token="s3cret-token")
    assert status == 200
    status, body = call(client, "getUpdates", timeout=0)
    assert status == 409
    assert body["description"].startswith("Conflict: can't use getUpdates")
    api.private_message(USER, "hello")
    path, update, secret = _eventually(lambda: receiver.posts)[0]
    assert (path, secret) == ("/hook", "s3cret-token")
    assert update["message"]["text"] == "hello"
    _eventually(lambda: api.pending_updates == 0)
    _, info = call(client, "getWebhookInfo")
    assert info["result"]["url"] == receiver.url
    assert info["result"]["pending_update_count"] == 0
    assert "last_error_message" not in info["result"]


def test_a_failing_webhook_is_retried_and_reported(
    api: BotApiServer, client: httpx.Client, receiver: _Receiver
) -> None:
    receiver.status = 403
    call(client, "setWebhook", url=receiver.url)
    api.private_message(USER, "hello")
    _eventually(lambda: len(receiver.posts) >= 2)  # retried
    _, info = call(client, "getWebhookInfo")
    assert info["result"]["pending_update_count"] == 1
    assert info["result"]["last_error_message"] == "Wrong response from the webhook: 403"
    receiver.status = 200
    _eventually(lambda: api.pending_updates == 0)
    assert {p[1]["update_id"] for p in receiver.posts} == {receiver.posts[0][1]["update_id"]}


def test_delete_webhook_goes_back_to_polling(
    api: BotApiServer, client: httpx.Client, receiver: _Receiver
) -> None:
    call(client, "setWebhook", url=receiver.url)
    assert call(client, "deleteWebhook")[0] == 200
    api.private_message(USER, "hello")
    status, body = call(client, "getUpdates", timeout=0)
    assert status == 200
    assert body["result"][0]["message"]["text"] == "hello"
    assert call(client, "getWebhookInfo")[1]["result"]["url"] == ""


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"url": "https://example.com/hook"}, "delivers only to"),
        ({"url": "ftp://127.0.0.1/hook"}, "delivers only to"),
        ({"url": "http://127.0.0.1:9/hook", "secret_token": "no spaces!"}, "secret token"),
    ],
)
def test_set_webhook_refuses_what_it_cannot_deliver_to(
    client: httpx.Client, params: dict[str, str], error: str
) -> None:
    status, body = call(client, "setWebhook", **params)
    assert status == 400
    assert error in body["description"]
