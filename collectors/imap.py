"""``imap``: a mailbox read over IMAP, folder by folder, without changing it.

The cursor is ``{uidvalidity, last_uid}`` per folder and is committed with the messages it
covers (DESIGN.md §5). A changed UIDVALIDITY means the server renumbered the folder: every
message is read again and the store recognises the ones it has by Message-ID, so nothing is
skipped and nothing doubled. Messages are fetched with ``BODY.PEEK[]`` so they are not marked
read; the mailbox changes only when ``move_processed_to`` is set, and then only for messages
whose batch is already committed. One connection per run; a dropped connection is reopened
once per batch before the run gives up. An idle poll costs one EXAMINE per folder (plus LOGIN
and LOGOUT): the UIDNEXT it answers says whether a SEARCH for new UIDs is worth sending.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

from pengaduan.collectors.base import Batch, Cursor, RawItem
from pengaduan.collectors.mail import MEDIA_TYPE, MailCollector
from pengaduan.errors import AuthError, SourceError, TransientError
from pengaduan.normalizer.email import message_key
from pengaduan.settings import Secret

FETCH_PARTS = [b"BODY.PEEK[]", b"INTERNALDATE"]
# INTERNALDATE as the server sent it, with its zone: imapclient's normalising converts it to
# naive local time, which overflows at year 1 or 9999 and stops the whole FETCH.
NORMALISE_TIMES = False
# What IMAPClient.fetch raises on an answer it cannot read: a protocol error, and from its
# INTERNALDATE conversion an OverflowError (a year of twenty digits) or an AttributeError
# (a number where the date string belongs); found by tests/test_fuzz_imap.py.
UNREADABLE_ANSWER = (IMAPClientError, OverflowError, AttributeError)
T = TypeVar("T")


@dataclass(frozen=True)
class ImapConfig:
    host: str
    username: str
    password: Secret
    ssl: bool = True
    port: int | None = None  # 993 with ssl, 143 without
    # A server with a private certificate authority (an office's own mail server).
    tls_ca_file: Path | None = None
    folders: list[str] = field(default_factory=lambda: ["INBOX"])
    batch_size: int = 50
    connect_timeout: float = 15.0
    read_timeout: float = 120.0
    # Move each message here once its batch is committed; None leaves the mailbox untouched.
    move_processed_to: str | None = None
    # Wait in IMAP IDLE after reading, so a new mail is ingested within seconds.
    idle: bool = False
    idle_seconds: float = 240.0


class ImapCollector(MailCollector):
    type = "imap"
    Config = ImapConfig
    default_interval = "2m"

    config: ImapConfig

    def __init__(self, name: str, config: ImapConfig):
        super().__init__(name, config)
        self._client: IMAPClient | None = None
        self._selected: str | None = None

    # --- connection --------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.config.port or (993 if self.config.ssl else 143)

    def _where(self) -> str:
        return f"collector {self.name}: {self.config.host}:{self.port}"

    def _connect(self) -> IMAPClient:
        config = self.config
        try:
            client = IMAPClient(
                config.host,
                port=self.port,
                ssl=config.ssl,
                ssl_context=(
                    ssl.create_default_context(cafile=config.tls_ca_file) if config.ssl else None
                ),
                timeout=SocketTimeout(connect=config.connect_timeout, read=config.read_timeout),
            )
        except ssl.SSLError as exc:
            raise SourceError(
                f"{self._where()}: TLS failed ({exc.reason or exc}); check 'ssl' and 'port' in "
                f"[collectors.{self.name}]"
            ) from None
        except (OSError, IMAPClientError) as exc:
            raise TransientError(f"{self._where()}: cannot connect ({_reason(exc)}); will retry") from None
        try:
            client.login(config.username, config.password.reveal())
        except LoginError:
            _close_quietly(client)
            raise AuthError(
                f"{self._where()}: the server refused the login for {config.username}; check the "
                f"password ({config.password.source}) and that IMAP access is enabled"
            ) from None
        except (OSError, IMAPClientError) as exc:
            _close_quietly(client)
            raise TransientError(f"{self._where()}: login failed ({_reason(exc)}); will retry") from None
        client.normalise_times = NORMALISE_TIMES
        self._selected = None
        return client

    def _call(self, operation: Callable[[IMAPClient], T], folder: str | None = None) -> T:
        """Run one IMAP operation, reconnecting once if the connection dropped."""
        for attempt in (1, 2):
            if self._client is None:
                self._client = self._connect()
            try:
                if folder is not None and self._selected != folder:
                    self._select(folder)
                return operation(self._client)
            except (OSError, IMAPClient.AbortError) as exc:
                _close_quietly(self._client)
                self._client = None
                if attempt == 2:
                    raise TransientError(
                        f"{self._where()}: the connection dropped twice ({_reason(exc)}); will retry"
                    ) from None
        raise AssertionError("unreachable")

    def _select(self, folder: str) -> dict[bytes, Any]:
        assert self._client is not None
        readonly = self.config.move_processed_to is None
        response = self._client.select_folder(folder, readonly=readonly)
        self._selected = folder
        return response

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except Exception:  # the run is over either way
                _close_quietly(self._client)
            self._client = None

    # --- fetching ----------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        folders: dict[str, dict[str, int]] = dict((cursor or {}).get("folders", {}))
        missing: list[str] = []
        for folder in self.config.folders:
            try:
                yield from self._fetch_folder(folder, folders)
            except _MissingFolder:
                missing.append(folder)
        if self.config.idle and not missing:
            yield from self._idle(folders)
        if missing:
            raise SourceError(
                f"collector {self.name}: folder(s) {', '.join(missing)} do not exist on "
                f"{self.config.host}; fix 'folders' in [collectors.{self.name}]"
            )

    def _fetch_folder(self, folder: str, folders: dict[str, dict[str, int]]) -> Iterator[Batch]:
        try:
            status = self._call(lambda c: self._select(folder))
        except IMAPClientError as exc:
            if _is_missing_folder(exc):
                raise _MissingFolder(folder) from None
            raise TransientError(f"{self._where()}: cannot open {folder} ({_reason(exc)})") from None
        uidvalidity, uidnext = select_numbers(status)
        if uidvalidity is None:
            # Without it renumbered messages look like new ones: read nothing rather than guess.
            raise TransientError(f"{self._where()}: the server gave {folder} no usable "
                                 f"UIDVALIDITY ({status.get(b'UIDVALIDITY')!r}); will retry")
        state = folders.get(folder)
        notes: list[str] = []
        if state is not None and state["uidvalidity"] != uidvalidity:
            notes.append(
                f"{folder}: UIDVALIDITY changed from {state['uidvalidity']} to {uidvalidity}; "
                "reading the whole folder again (messages already stored are recognised by "
                "Message-ID)"
            )
            state = None
        last_uid = state["last_uid"] if state else 0
        if uidnext is not None and uidnext <= last_uid + 1:
            # Every message in the folder has a UID below UIDNEXT (RFC 3501 §2.3.1.1): nothing
            # is new, and the idle poll of this folder costs its one SELECT.
            uids: list[int] = []
        else:
            # "n:*" always matches the highest UID even when it is below n, hence the filter.
            uids = sorted(
                uid for uid in self._call(lambda c: c.search(["UID", f"{last_uid + 1}:*"]), folder)
                if uid > last_uid
            )
        if not uids and (state is None or notes):
            # Remember the folder's UIDVALIDITY even when it is empty, so a later renumbering
            # is noticed.
            folders[folder] = {"uidvalidity": uidvalidity, "last_uid": last_uid}
            yield Batch([], {"folders": dict(folders)}, notes=notes)
            return
        for start in range(0, len(uids), self.config.batch_size):
            chunk = uids[start : start + self.config.batch_size]
            items = self._fetch_chunk(folder, chunk, uidvalidity)
            folders[folder] = {"uidvalidity": uidvalidity, "last_uid": chunk[-1]}
            yield Batch(items, {"folders": dict(folders)}, notes=notes)
            notes = []
            # Past the yield, the pipeline has committed this batch: only now may it move.
            self._move(folder, chunk)

    def _fetch_chunk(self, folder: str, uids: list[int], uidvalidity: int) -> list[RawItem]:
        try:
            response = self._call(lambda c: c.fetch(uids, FETCH_PARTS), folder)
        except UNREADABLE_ANSWER as exc:  # a refusal, or an answer imapclient cannot parse
            raise TransientError(
                f"{self._where()}: {folder}: FETCH of UIDs {uids[0]}-{uids[-1]} failed "
                f"({_reason(exc)}); will retry"
            ) from None
        mailbox = f"{self.config.username}@{self.config.host}"
        meta = {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity}
        return fetched_items(response, uids, meta)

    def _move(self, folder: str, uids: list[int]) -> None:
        target = self.config.move_processed_to
        if not target or target == folder:
            return

        def move(client: IMAPClient) -> None:
            if client.has_capability("MOVE"):
                client.move(uids, target)
            else:
                client.copy(uids, target)
                client.delete_messages(uids)
                client.uid_expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()

        self._call(move, folder)

    def _idle(self, folders: dict[str, dict[str, int]]) -> Iterator[Batch]:
        """Wait in IDLE on the first folder; read it again whenever the server announces mail.

        An empty batch every few seconds hands control back to the pipeline, so a stop
        request (SIGTERM) is honoured promptly even while nothing arrives.
        """
        folder = self.config.folders[0]
        deadline = time.monotonic() + self.config.idle_seconds
        while time.monotonic() < deadline:
            client = self._client
            if client is None:
                return
            try:
                self._call(lambda c: None, folder)
                client = self._client
                assert client is not None
                client.idle()
                responses = client.idle_check(timeout=min(5.0, self.config.idle_seconds))
                client.idle_done()
            except (OSError, IMAPClient.AbortError, IMAPClientError):
                _close_quietly(self._client)
                self._client = None
                return  # the next scheduled run reconnects
            if any(isinstance(r, tuple) and len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                yield from self._fetch_folder(folder, folders)
            else:
                yield Batch([], {"folders": dict(folders)})


def fetched_items(
    response: Mapping[int, Mapping[bytes, Any]], uids: list[int], meta: Mapping[str, Any]
) -> list[RawItem]:
    """The items of a FETCH answer (as imapclient parses it) for ``uids``, in that order.

    A UID the answer leaves out, or answers without BODY[], was expunged between SEARCH and
    FETCH: there is nothing left to read. A BODY[] that is not bytes (NIL, a number) is a
    message the server cannot give: an item quarantined with the reason, not skipped.
    """
    items = []
    for uid in uids:
        data = response.get(uid)
        if not data or b"BODY[]" not in data:
            continue
        item_meta = {**meta, "uid": uid}
        received = _received(data.get(b"INTERNALDATE"))
        if received is not None:
            item_meta["received"] = received
        raw = data[b"BODY[]"]
        if isinstance(raw, bytes):
            items.append(RawItem(message_key(raw), raw, MEDIA_TYPE, item_meta))
            continue
        shown = "NIL" if raw is None else type(raw).__name__
        folder = f"{meta.get('mailbox')} {meta.get('folder')}"
        where = f"{folder} UIDVALIDITY {meta.get('uidvalidity')} UID {uid}"
        key = "unreadable:" + hashlib.sha256(where.encode()).hexdigest()[:32]
        error = f"the IMAP server answered FETCH for {where} without the message ({shown})"
        items.append(RawItem(key, b"", MEDIA_TYPE, item_meta, error=error))
    return items


def _received(internal: Any) -> str | None:
    """INTERNALDATE (parsed with normalise_times off) as ISO text; a time without a zone is
    taken as UTC; an offset of a day or more ("+9999") is no usable time."""
    if not isinstance(internal, datetime):
        return None
    try:
        return (internal if internal.tzinfo else internal.replace(tzinfo=timezone.utc)).isoformat()
    except ValueError:
        return None


class _MissingFolder(Exception):
    pass


def select_numbers(status: dict[bytes, object]) -> tuple[int | None, int | None]:
    """UIDVALIDITY and UIDNEXT of a SELECT/EXAMINE answer (imapclient's dict), None where the
    server gave none or something that is not a number: a missing UIDNEXT only costs a SEARCH."""
    def number(key: bytes) -> int | None:
        value = status.get(key)
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        try:
            found = int(value)
        except ValueError:
            return None
        return found if found >= 0 else None
    return number(b"UIDVALIDITY"), number(b"UIDNEXT")


def _is_missing_folder(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("nonexistent", "doesn't exist", "does not exist", "no such", "unknown mailbox"))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _close_quietly(client: IMAPClient | None) -> None:
    if client is None:
        return
    try:
        client.shutdown()
    except Exception:  # already broken: nothing more to release
        pass
