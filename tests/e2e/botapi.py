"""A Bot API test server: real HTTP on 127.0.0.1, enforcing what Telegram enforces.

The bot under test talks to it exactly as to ``api.telegram.org``
(``POST <base_url><token>/<method>``, form-encoded fields whose non-string
values are JSON, the reply ``{"ok": ..., "result" | "description", ...}``).
Tests drive it from the other side: they inject updates (a user writing in a
private chat or a group, pressing a button, typing an inline query, posting an
inline result), read what the bot sent to each chat, and inject faults (429
with ``retry_after``, 403 for a chat that blocked the bot, a ``delay`` before
every answer).

Checked like Telegram: message text of 1..4096 UTF-16 units after entity
parsing; HTML parse mode with Telegram's tags only, nested and closed, valid
entities; inline keyboards with ``callback_data`` of 1..64 bytes and http(s)
URLs; editing only existing messages, and not to identical content; callback
and inline queries answered once; at most 50 inline results with unique ids;
chats must exist; a group migrated to a supergroup answers ``migrate_to_chat_id``.
``getChatMember`` answers the statuses a test sets (everyone else is a member).
Long polling blocks ``getUpdates`` until an update arrives
or its ``timeout`` runs out; ``offset`` confirms (drops) earlier updates.

Webhooks as Telegram runs them: ``setWebhook`` makes the server POST each update,
in order, to the URL with the ``X-Telegram-Bot-Api-Secret-Token`` header, drop it
on a 2xx answer and otherwise record the error (``getWebhookInfo``) and retry;
``getUpdates`` answers 409 Conflict while a webhook is set; ``deleteWebhook``
goes back to polling. Unlike Telegram (https on ports 443, 80, 88, 8443) it
accepts http, and only to loopback addresses. :meth:`BotApiServer.post_to_webhook`
posts an update the way a stranger could, with any secret or none.

State lives behind one lock; request handler threads and test code share it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.e2e.telegram_html import HtmlError, parse_html, utf16_units

__all__ = ["SECRET_HEADER", "TEST_TOKEN", "BotApiServer", "Sent"]

TEST_TOKEN = "123456789:TEST-token-do-not-log-abcdefghijklmnopq"

_MAX_TEXT_UNITS = 4096
_MAX_CALLBACK_BYTES = 64
_MAX_INLINE_RESULTS = 50
_MAX_CALLBACK_ANSWER = 200

# Fields PTB sends as plain strings; every other field is JSON (see telegram.request.RequestData).
_STRING_FIELDS = frozenset(
    {
        "text",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "action",
        "url",
        "next_offset",
        "language_code",
        "caption",
        "business_connection_id",
        "message_effect_id",
        "description",
        "short_description",
        "name",
    }
)
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Sent:
    """A message the bot sent, as it stands now (edits applied)."""

    chat_id: int
    message_id: int
    html: str  # as sent (parse_mode HTML) or the plain text
    text: str  # what the user sees
    reply_markup: dict[str, Any] | None
    reply_to: int | None
    edits: int = 0

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    def button(self, label: str) -> dict[str, Any]:
        for b in self.buttons:
            if b["text"] == label:
                return b
        raise KeyError(f"no {label!r} button on message {self.message_id}: {self.buttons}")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float


@dataclass
class _Chat:
    info: dict[str, Any]
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class BotApiServer:
    """The server and its state; use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(
        self, token: str = TEST_TOKEN, username: str = "TechBriefTestBot", *, delay: float = 0.0
    ) -> None:
        self.token = token
        self.delay = delay
        """Seconds every request waits before it is answered (a distant or busy server)."""
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "techbrief",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.lock = threading.Condition()
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1)
        self._chats: dict[int, _Chat] = {}
        self._sent: dict[int, dict[int, Sent]] = defaultdict(dict)
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._callback_answers: dict[str, dict[str, Any]] = {}
        self._inline_queries: dict[str, dict[str, Any]] = {}
        self._inline_answers: dict[str, dict[str, Any]] = {}
        self._query_ids = itertools.count(1)
        self._faults: dict[str, deque[ApiError]] = defaultdict(deque)
        self._blocked: set[int] = set()
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._members: dict[tuple[int, int], str] = {}  # (chat, user) -> status; default member
        self._migrated: dict[int, int] = {}  # group id -> its supergroup's id
        self._hold: tuple[str, int] | None = None  # (method, from which call on) see hold()
        self._held_calls = 0
        self._released = threading.Event()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[Call] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.errors: list[tuple[str, str]] = []  # (method, description) of every 4xx answered
        self.webhook: dict[str, Any] | None = None  # setWebhook's parameters while one is set
        self.webhook_deliveries: list[int] = []  # HTTP status of every delivery attempt
        self._webhook_error: tuple[int, str] | None = None  # (unix time, message) of the last
        self._delivery: threading.Thread | None = None
        self._closing = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> BotApiServer:
        self._server = _HttpServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        with self.lock:
            self._closing = True
            self.lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._delivery is not None:
            self._delivery.join(timeout=15)

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What ``TELEGRAM_API_URL`` should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what the bot did ------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[Sent]:
        """The bot's messages in a chat, oldest first."""
        with self.lock:
            return list(self._sent[chat_id].values())

    def message(self, chat_id: int, message_id: int) -> Sent:
        with self.lock:
            return self._sent[chat_id][message_id]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self._callback_answers.get(query_id)

    def inline_answer(self, query_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self._inline_answers.get(query_id)

    def calls_of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    @property
    def pending_updates(self) -> int:
        with self.lock:
            return len(self._updates)

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, method: str, times: int = 1, *, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer 429 Too Many Requests."""
        with self.lock:
            for _ in range(times):
                self._faults[method].append(
                    ApiError(
                        429,
                        f"Too Many Requests: retry after {retry_after}",
                        {"retry_after": retry_after},
                    )
                )

    def fail_next_with(self, method: str, status: int, description: str) -> None:
        with self.lock:
            self._faults[method].append(ApiError(status, description))

    def block(self, chat_id: int) -> None:
        """The user of a private chat blocked the bot: writing there answers 403."""
        with self.lock:
            self._blocked.add(chat_id)

    def hold(self, method: str, from_call: int) -> None:
        """A bot dying mid-request: call number ``from_call`` of ``method`` is carried out
        (the message reaches the user) but not answered, and later calls are neither
        carried out nor answered, until :meth:`release` (then they fail with 503)."""
        with self.lock:
            self._hold = (method, from_call)
            self._held_calls = 0
            self._released.clear()

    def release(self) -> None:
        """Back to normal; held calls are let go (their clients are gone by then)."""
        with self.lock:
            self._hold = None
        self._released.set()

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """``user_id``'s status in ``chat_id`` for getChatMember ("creator", "administrator",
        "member", "left", ...); everyone is a "member" unless set."""
        with self.lock:
            self._members[(chat_id, user_id)] = status

    def add_private_chat(self, user_id: int) -> None:
        """A user who started the bot earlier: their chat exists, no update is queued."""
        with self.lock:
            self._chat({"id": user_id, "type": "private", "first_name": "Reader"})

    def migrate_group(self, group_id: int, supergroup_id: int) -> None:
        """A group becomes a supergroup: both service messages arrive, and writing to the
        old id answers 400 with ``migrate_to_chat_id`` from then on."""
        with self.lock:
            old = self._chats[group_id]
            new = self._chat(
                {"id": supergroup_id, "type": "supergroup", "title": old.info["title"]}
            )
            self._migrated[group_id] = supergroup_id
            for chat, field_name, other in (
                (old, "migrate_to_chat_id", supergroup_id),
                (new, "migrate_from_chat_id", group_id),
            ):
                message = {
                    "message_id": next(chat.ids),
                    "date": int(time.time()),
                    "chat": chat.info,
                    "from": self.user(1),
                    field_name: other,
                }
                chat.messages[message["message_id"]] = message
                self._push({"message": message})

    # -- what users do -----------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Reader") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def private_message(
        self, user_id: int, text: str, *, reply_to: int | None = None
    ) -> dict[str, Any]:
        """A user writes to the bot in their private chat (chat id = user id)."""
        chat = {"id": user_id, "type": "private", "first_name": "Reader"}
        return self._incoming(chat, self.user(user_id), text, reply_to=reply_to)

    def private_message_update(self, user_id: int, text: str) -> dict[str, Any]:
        """The update of a private message, not queued: for :meth:`post_to_webhook`."""
        chat = {"id": user_id, "type": "private", "first_name": "Reader"}
        message = self._incoming(chat, self.user(user_id), text, reply_to=None, queue=False)
        return {"update_id": next(self._update_ids), "message": message}

    def post_to_webhook(self, update: dict[str, Any], secret_token: str | None) -> int:
        """POST ``update`` to the webhook URL as anyone could; returns the HTTP status."""
        with self.lock:
            if self.webhook is None:
                raise RuntimeError("no webhook is set")
            url = self.webhook["url"]
        return _post_json(url, update, secret_token)

    def group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        title: str = "China tech watchers",
        kind: str = "supergroup",
    ) -> dict[str, Any]:
        """A member writes in a group (``chat_id`` negative; ``kind`` "group" or "supergroup")."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = {"id": chat_id, "type": kind, "title": title}
        return self._incoming(chat, self.user(user_id), text, reply_to=reply_to)

    def edit_message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits one of their messages: the bot gets an ``edited_message`` update."""
        with self.lock:
            message = self._chats[chat_id].messages[message_id]
            message["text"] = text
            message["edit_date"] = int(time.time())
            entities = _entities(text)
            if entities:
                message["entities"] = entities
            else:
                message.pop("entities", None)
            self._push({"edited_message": json.loads(json.dumps(message))})
            return message

    def document_message(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        *,
        mime_type: str = "text/plain",
        caption: str | None = None,
        declared_size: int | None = None,
    ) -> dict[str, Any]:
        """A user sends a file in their private chat; ``getFile`` and the download serve it."""
        with self.lock:
            chat = self._chat({"id": user_id, "type": "private", "first_name": "Reader"})
            file_id = f"doc{len(self._files) + 1}"
            self._files[file_id] = (f"documents/{file_id}/{file_name}", content)
            message: dict[str, Any] = {
                "message_id": next(chat.ids),
                "date": int(time.time()),
                "chat": chat.info,
                "from": self.user(user_id),
                "document": {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "file_name": file_name,
                    "mime_type": mime_type,
                    "file_size": len(content) if declared_size is None else declared_size,
                },
            }
            if caption is not None:
                message["caption"] = caption
            chat.messages[message["message_id"]] = message
            self._push({"message": message})
            return message

    def file_content(self, file_path: str) -> bytes | None:
        with self.lock:
            return next((c for p, c in self._files.values() if p == file_path), None)

    def press(self, sent: Sent, data: str, *, user_id: int | None = None) -> str:
        """A user presses a button carrying ``data`` on a bot message; returns the query id."""
        with self.lock:
            chat = self._chats[sent.chat_id]
            message = json.loads(json.dumps(chat.messages[sent.message_id]))
            query_id = str(next(self._query_ids))
            query = {
                "id": query_id,
                "from": self.user(user_id if user_id is not None else abs(sent.chat_id)),
                "message": message,
                "chat_instance": f"ci{sent.chat_id}",
                "data": data,
            }
            self._callback_queries[query_id] = query
            self._push({"callback_query": query})
            return query_id

    def inline_query(self, user_id: int, query: str) -> str:
        """A user types ``@bot query`` in some chat; returns the inline query id."""
        with self.lock:
            query_id = str(next(self._query_ids))
            inline = {"id": query_id, "from": self.user(user_id), "query": query, "offset": ""}
            self._inline_queries[query_id] = inline
            self._push({"inline_query": inline})
            return query_id

    def choose_inline_result(
        self, inline_query_id: str, result_id: str, chat_id: int
    ) -> dict[str, Any]:
        """The user picks a result: its message is posted "via" the bot in ``chat_id``."""
        with self.lock:
            answer = self._inline_answers[inline_query_id]
            query = self._inline_queries[inline_query_id]
            result = next(r for r in answer["results"] if r["id"] == result_id)
            content = result["input_message_content"]
            parsed = _parse_text(content["message_text"], content.get("parse_mode"))
            chat = self._chat(
                {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "x"}
            )
            message = {
                "message_id": next(chat.ids),
                "date": int(time.time()),
                "chat": chat.info,
                "from": query["from"],
                "via_bot": self.bot_user,
                "text": parsed,
            }
            if result.get("reply_markup"):
                message["reply_markup"] = result["reply_markup"]
            chat.messages[message["message_id"]] = message
            self._push({"message": message})
            return message

    # -- internals -----------------------------------------------------------------------------

    def _chat(self, info: dict[str, Any]) -> _Chat:
        chat = self._chats.get(info["id"])
        if chat is None:
            chat = self._chats[info["id"]] = _Chat(info)
        return chat

    def _incoming(
        self,
        chat_info: dict[str, Any],
        user: dict[str, Any],
        text: str,
        *,
        reply_to: int | None,
        queue: bool = True,
    ) -> dict[str, Any]:
        with self.lock:
            chat = self._chat(chat_info)
            message: dict[str, Any] = {
                "message_id": next(chat.ids),
                "date": int(time.time()),
                "chat": chat.info,
                "from": user,
                "text": text,
            }
            entities = _entities(text)
            if entities:
                message["entities"] = entities
            if reply_to is not None:
                message["reply_to_message"] = _shallow(chat.messages[reply_to])
            chat.messages[message["message_id"]] = message
            if queue:
                self._push({"message": message})
            return message

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self.lock.notify_all()

    # -- the Bot API ------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call (thread-safe)."""
        if method.lower() == "getupdates":
            return self._get_updates(params)
        with self.lock:
            held = None
            if self._hold is not None and self._hold[0] == method:
                self._held_calls += 1
                held = self._held_calls - self._hold[1]  # < 0: answered as usual
        if held is not None and held > 0:
            self._released.wait()
            return 503, {"ok": False, "error_code": 503, "description": "held, never carried out"}
        status, body = self._carry_out(method, params)
        if held == 0:
            self._released.wait()
        return status, body

    def _carry_out(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            try:
                fault = self._faults[method].popleft() if self._faults[method] else None
                if fault is not None:
                    raise fault
                implementation = getattr(self, f"_api_{method}", None)
                if implementation is None:
                    raise ApiError(404, "Not Found: method not found")
                result = implementation(params)
                status, body = 200, {"ok": True, "result": result}
            except ApiError as exc:
                status = exc.status
                body = {"ok": False, "error_code": exc.status, "description": exc.description}
                if exc.parameters:
                    body["parameters"] = exc.parameters
                self.errors.append((method, exc.description))
            self.calls.append(Call(method, params, status, time.monotonic()))
            return status, body

    def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        deadline = time.monotonic() + max(0.0, float(params.get("timeout") or 0))
        with self.lock:
            if self.webhook is not None:
                description = (
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first"
                )
                self.calls.append(Call("getUpdates", params, 409, time.monotonic()))
                self.errors.append(("getUpdates", description))
                return 409, {"ok": False, "error_code": 409, "description": description}
            # Recorded on arrival: a long poll may wait a while.
            self.calls.append(Call("getUpdates", params, 200, time.monotonic()))
            while self._updates and offset and self._updates[0]["update_id"] < offset:
                self._updates.popleft()  # confirmed by the offset: gone for good
            while not self._updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.lock.wait(remaining)
            batch = list(itertools.islice(self._updates, limit))
        return 200, {"ok": True, "result": batch}

    def _writable_chat(self, params: dict[str, Any]) -> _Chat:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise _bad("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        return self._chats[chat_id]

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise _bad("chat not found")
        if not isinstance(user_id, int):
            raise _bad("invalid user_id specified")
        status = self._members.get((chat_id, user_id), "member")
        member: dict[str, Any] = {"status": status, "user": self.user(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    flag: False
                    for flag in (
                        "can_be_edited",
                        "is_anonymous",
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_invite_users",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    )
                }
            )
        return member

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._writable_chat(params)
        message = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise _bad("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"] or message.get("via_bot"):
            raise _bad("message can't be edited")
        markup = _check_markup(params.get("reply_markup"))
        sent = self._sent[chat.info["id"]][message["message_id"]]
        if sent.reply_markup == markup:
            raise _bad("message is not modified")
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        sent.reply_markup = markup
        sent.edits += 1
        self.lock.notify_all()
        return message

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        self._webhook_error = None
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:  # an empty URL removes the webhook, as in Telegram
            return self._api_deleteWebhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK:
            raise _bad("bad webhook: this test server delivers only to http(s)://127.0.0.1")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _bad("bad webhook: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = dict(params)
        self._webhook_error = None
        if self._delivery is None:
            self._delivery = threading.Thread(target=self._deliver, daemon=True)
            self._delivery.start()
        self.lock.notify_all()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = int(self.webhook.get("max_connections") or 40)
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _deliver(self) -> None:
        """POST queued updates to the webhook, oldest first, dropping each once answered 2xx."""
        while True:
            with self.lock:
                while not self._closing and (self.webhook is None or not self._updates):
                    self.lock.wait(0.5)
                if self._closing:
                    return
                assert self.webhook is not None
                update, url = self._updates[0], self.webhook["url"]
                secret = self.webhook.get("secret_token")
            try:
                status = _post_json(url, update, secret)
                ok = 200 <= status < 300
                error = None if ok else f"Wrong response from the webhook: {status}"
            except OSError as exc:
                status, error = 0, f"Connection refused: {exc}"
            with self.lock:
                self.webhook_deliveries.append(status)
                if error is None:
                    if self._updates and self._updates[0] is update:
                        self._updates.popleft()
                    self.lock.notify_all()
                    continue
                self._webhook_error = (int(time.time()), error)
                self.lock.wait(0.2)  # Telegram waits longer before retrying

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_logOut(self, params: dict[str, Any]) -> bool:
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not 1 <= len(commands) <= 100:
            raise _bad("commands must be a list of 1..100 commands")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        if scope["type"] == "chat" and scope.get("chat_id") not in self._chats:
            raise _bad("chat not found")
        self.commands[_scope_key(scope)] = commands
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(_scope_key(params.get("scope") or {"type": "default"}), [])

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(_scope_key(params.get("scope") or {"type": "default"}), None)
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._writable_chat(params)
        if params.get("action") not in ("typing", "upload_document", "find_location"):
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((params["chat_id"], params["action"]))
        return True

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        text = _parse_text(params.get("text"), params.get("parse_mode"))
        markup = _check_markup(params.get("reply_markup"))
        reply_to = None
        reply = params.get("reply_parameters")
        if reply is not None:
            reply_to = reply.get("message_id")
            if reply_to not in chat.messages:
                if not reply.get("allow_sending_without_reply"):
                    raise _bad("message to be replied not found")
                reply_to = None
        message: dict[str, Any] = {
            "message_id": next(chat.ids),
            "date": int(time.time()),
            "chat": chat.info,
            "from": self.bot_user,
            "text": text,
        }
        if markup and "inline_keyboard" in markup:  # Telegram echoes only inline keyboards
            message["reply_markup"] = markup
        if reply_to is not None:
            message["reply_to_message"] = _shallow(chat.messages[reply_to])
        chat.messages[message["message_id"]] = message
        self._sent[chat.info["id"]][message["message_id"]] = Sent(
            chat.info["id"], message["message_id"], params["text"], text, markup, reply_to
        )
        self.lock.notify_all()
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._writable_chat(params)
        message = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise _bad("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"] or message.get("via_bot"):
            raise _bad("message can't be edited")
        text = _parse_text(params.get("text"), params.get("parse_mode"))
        markup = _check_markup(params.get("reply_markup"))
        sent = self._sent[chat.info["id"]][message["message_id"]]
        if sent.html == params["text"] and sent.reply_markup == markup:
            raise _bad(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        message["text"] = text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        sent.html, sent.text, sent.reply_markup = params["text"], text, markup
        sent.edits += 1
        self.lock.notify_all()
        return message

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad("wrong file_id or the file is temporarily unavailable")
        path, content = stored
        return {
            "file_id": params["file_id"],
            "file_unique_id": f"u{params['file_id']}",
            "file_size": len(content),
            "file_path": path,
        }

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._callback_queries or query_id in self._callback_answers:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > _MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        self._callback_answers[str(query_id)] = params
        self.lock.notify_all()
        return True

    def _api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        query_id = params.get("inline_query_id")
        if query_id not in self._inline_queries or query_id in self._inline_answers:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list) or len(results) > _MAX_INLINE_RESULTS:
            raise _bad("RESULTS_TOO_MUCH")
        ids = set()
        for result in results:
            result_id = str(result.get("id", ""))
            if not 1 <= len(result_id.encode()) <= 64 or result_id in ids:
                raise _bad("RESULT_ID_INVALID" if result_id not in ids else "RESULT_ID_DUPLICATE")
            ids.add(result_id)
            if result.get("type") != "article" or not result.get("title"):
                raise _bad("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content") or {}
            _parse_text(content.get("message_text"), content.get("parse_mode"))
            _check_markup(result.get("reply_markup"))
        button = params.get("button")
        if button is not None and not button.get("text"):
            raise _bad("BUTTON_TEXT_INVALID")
        self._inline_answers[str(query_id)] = params
        self.lock.notify_all()
        return True


def _scope_key(scope: dict[str, Any]) -> str:
    if scope.get("type") == "chat":
        return f"chat:{scope.get('chat_id')}"
    return str(scope.get("type", "default"))


def _shallow(message: dict[str, Any]) -> dict[str, Any]:
    """A message as quoted in ``reply_to_message``: without its own reply (Telegram nests once)."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram finds in what a user typed: a leading command, @mentions."""
    found = []
    command = _COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_units(command.group())})
    for m in _MENTION.finditer(text):
        found.append(
            {
                "type": "mention",
                "offset": utf16_units(text[: m.start()]),
                "length": utf16_units(m.group()),
            }
        )
    return found


def _parse_text(text: object, parse_mode: object) -> str:
    """The visible text of a message, or the ``Bad Request`` Telegram would answer."""
    if not isinstance(text, str):
        raise _bad("message text is empty")
    if parse_mode is None:
        visible = text
    elif str(parse_mode).upper() == "HTML":
        try:
            visible = parse_html(text).text
        except HtmlError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
    else:
        raise _bad(f"unsupported parse_mode {parse_mode!r}")
    visible = visible.strip()
    if not visible:
        raise _bad("message text is empty")
    if utf16_units(visible) > _MAX_TEXT_UNITS:
        raise _bad("message is too long")
    return visible


def _check_markup(markup: object) -> dict[str, Any] | None:
    if markup is None:
        return None
    if isinstance(markup, dict) and markup.get("force_reply") is True:
        if set(markup) - {"force_reply", "selective", "input_field_placeholder"}:
            raise _bad("REPLY_MARKUP_INVALID")
        return markup
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        raise _bad("REPLY_MARKUP_INVALID")
    for row in markup["inline_keyboard"]:
        for button in row:
            if not button.get("text"):
                raise _bad("BUTTON_TEXT_INVALID")
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= _MAX_CALLBACK_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
            elif "url" in button:
                if not re.fullmatch(r"(https?|tg)://\S+", str(button["url"])):
                    raise _bad("BUTTON_URL_INVALID")
            else:
                raise _bad("BUTTON_TYPE_INVALID")
    return markup


def _post_json(url: str, payload: dict[str, Any], secret_token: str | None) -> int:
    """POST ``payload`` as JSON, as Telegram delivers an update; returns the HTTP status."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers[SECRET_HEADER] = secret_token
    try:
        connection.request("POST", parts.path or "/", json.dumps(payload).encode(), headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _decode_params(body: bytes, content_type: str) -> dict[str, Any]:
    if "application/json" in content_type:
        decoded: dict[str, Any] = json.loads(body or b"{}")
        return decoded
    params: dict[str, Any] = {}
    for name, value in parse_qsl(body.decode("utf-8", "surrogatepass"), keep_blank_values=True):
        if name in _STRING_FIELDS:
            params[name] = value
        else:
            try:
                params[name] = json.loads(value)
            except ValueError:
                params[name] = value
    return params


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, api: BotApiServer) -> None:
        self.api = api
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-poll (the bot stopping) is not an error of the server.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    # Headers and body are two writes: with Nagle's algorithm on, the client's delayed
    # ACK would hold every response back by ~40 ms.
    disable_nagle_algorithm = True
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        api = self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", self.path.split("?", 1)[0])
        if match is None:
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        if match.group(1) != api.token:
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        params = _decode_params(body, self.headers.get("Content-Type", ""))
        if api.delay:
            time.sleep(api.delay)  # this connection's thread only: others are served meanwhile
        status, payload = api.handle(match.group(2), params)
        self._reply(status, payload)

    def do_GET(self) -> None:
        api = self.server.api
        match = re.fullmatch(r"/file/bot([^/]+)/(.+)", unquote(self.path.split("?", 1)[0]))
        if match is None:
            self.do_POST()
            return
        content = api.file_content(match.group(2)) if match.group(1) == api.token else None
        if content is None:
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(HTTPStatus(status))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
