"""Interactive benchmark: /start, whole bill-review filings and SMS look-ups, against a floor.

    .venv/bin/python bench/interactive.py [--rounds 3] [--quick] [--profile]

Needs PostgreSQL (BENCH_DATABASE_URL, default the CI one; a fresh database is made, migrated
with `python -m backend migrate`, seeded with `python -m backend seed-demo`, and dropped) and
Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14; the desk keeps its SMS rate counters
and its Bot API limiter there, as in production; only this run's keys are removed). Everything
listens on 127.0.0.1.

What runs:
- this process: the fake Bot API (tests/fakes/bot_api.py) and a fake Melipayamak gateway, both
  on this process's event loop, and the clients: 50 concurrent webhook posters (one aiohttp
  ClientSession, 50 connections), posting Telegram-shaped updates as Telegram does (with the
  X-Telegram-Bot-Api-Secret-Token header; a non-200 answer is posted again, like Telegram, up to
  3 times, and counted as a retry);
- the desk: `python -m bot web` on that database (Telegram bot only, SMS_PROVIDER=melipayamak
  pointed at the fake gateway, the SMS webhook on);
- the floor: a bare aiogram 3 webhook bot in its own process (this file, `--floor-server`):
  aiogram's SimpleRequestHandler (handle_in_background=False, so that, like the desk, it answers
  the webhook after handling), no database, answering every message and every button with the
  desk's own main menu (the very text and inline keyboard the desk sent to /start, captured at
  the start of the run; a button is also answered with answerCallbackQuery), and an SMS webhook
  that answers each push by sending the desk's own look-up reply text to the gateway.

Scenarios, each posted to the floor and to the desk in turn, in every round (the order of the
two alternates from round to round, since this machine is shared and noisy):
- /start: 200 new users (--start-users) each send /start;
- filing: 100 new users at once each file a whole bill review through the demo data: /start,
  «اعتراض به صورت‌حساب», the bill ID, the bill, the reason, the description, a photo (64 kB),
  «done», «confirm» (9 updates a user, each sent once the previous one is answered); every user
  disputes a bill of their own, and the reviews still open are closed (in SQL) before each run;
- sms: tracking-code look-ups (the codes the filings just got) pushed to the SMS webhook
  /sms/melipayamak/<SMS_WEBHOOK_SECRET> as Melipayamak pushes (GET ?from=&to=&body=), from 200
  new senders (--sms-senders), 5 look-ups each (different codes; plain or inside a Persian
  sentence).
A /start or SMS run stops taking new updates after --run-seconds (45; the table marks it with
*), so that a slow desk keeps the whole run near 10 minutes; filings always finish. --quick: one
round of 50 /start, 20 filings, 50 senders x 2 look-ups.

Latency: from posting the update (once one of the 50 clients has taken it) until the fake Bot
API has received the last reply message of that answer for that chat (sendMessage/sendDocument;
the desk sends all of an answer before it answers the webhook). For SMS the desk's reply is sent
synchronously inside the webhook handler (bot/sms_web.py runs SmsDesk.handle, which sends through
the gateway, before answering the push), so SMS latency is from the push until the fake gateway
receives the SendSMS call for that number, which is just before the push's HTTP answer.
updates/s: updates answered / (last reply - first post) of the run.
lost: an update whose answer has fewer messages than the desk gives it when it is alone (calibrated
at the start, one user at a time; the floor: one), or none at all. doubled: an update answered
with more messages than that, plus replies arriving after the run for nobody's update, plus (for
filings) a user with more than one request filed in the database.
ratio: desk updates/s / floor updates/s in the same round. The tables print each round, then the
median of each figure across rounds (lost and doubled: totals).

--profile adds, after the measured rounds, one pass of each scenario against the desk with
py-spy (py-spy==0.4.3, requirements-dev.txt) sampling the web process's thread that holds the
GIL, and prints its hot spots: by package of the running frame, the running frames, and the
desk's own functions with what they called. --profile-cpu samples every thread py-spy finds
active instead: it shows C code that runs without the GIL (building SSL contexts), but counts a
thread waiting in psycopg's socket wait as active too.
`--rounds 0 --profile` profiles only. --telegram-rate N sets the desk's TELEGRAM_RATE (its Bot API
calls a second per token, 25 by default), to see the desk without the platform's limit.
--web-processes N runs the desk's web app in N processes (its WEB_PROCESSES: gunicorn's master
and N workers on the one port); the desk's CPU is then that of all of them, and --profile
samples the workers too.
Logs and profiles: var/bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = 50  # concurrent webhook posters, for the floor and the desk alike
ATTEMPTS = 3  # posts of one update (a non-200 answer is posted again, as Telegram does)
REPLY_TIMEOUT = 30.0  # seconds an update may wait for its answer before it counts as lost
RUN_TIMEOUT = 600.0  # seconds a whole run may take
DESK_TOKEN = "700001:bench-interactive-desk"
FLOOR_TOKEN = "700002:bench-interactive-floor"
SMS_LINE = "30004000123"  # the service line pushes arrive at
PHOTO_BYTES = 64 * 1024
DESCRIPTION = "رقم کنتور اشتباه خوانده شده است؛ عکس کنتور پیوست است."
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
TRACKING_CODE = re.compile(r"(?<![0-9۰-۹])[0-9۰-۹]{10}(?![0-9۰-۹])")
SCENARIOS = ("/start", "filing", "sms")
FILING_STEPS = (
    "start",
    "menu",
    "bill_id",
    "bill",
    "reason",
    "description",
    "photo",
    "done",
    "confirm",
)


# ---- measuring ---------------------------------------------------------------------------------


class Inbox:
    """Messages received per key (a chat, an SMS recipient), with their arrival times."""

    def __init__(self) -> None:
        self.items: defaultdict[Hashable, list[tuple[float, Any]]] = defaultdict(list)
        self._waiters: defaultdict[Hashable, list[asyncio.Future[None]]] = defaultdict(list)

    def add(self, key: Hashable, payload: Any) -> None:
        self.items[key].append((time.monotonic(), payload))
        for waiter in self._waiters.pop(key, []):
            if not waiter.done():
                waiter.set_result(None)

    def count(self, key: Hashable) -> int:
        return len(self.items.get(key, ()))

    async def wait_for(self, key: Hashable, count: int, timeout: float) -> bool:
        """Until `key` holds `count` messages; False after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.count(key) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            waiter = loop.create_future()
            self._waiters[key].append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, remaining)
        return True


def _load_fakes() -> Any:
    from tests.fakes.bot_api import FakeBotAPI

    class BenchBotAPI(FakeBotAPI):
        """The fake Bot API, telling the benchmark of every message a bot sends, as it arrives."""

        def __init__(self) -> None:
            super().__init__()
            self.inbox = Inbox()

        async def _send_message(self, state: Any, params: dict[str, Any]) -> Any:
            message = await super()._send_message(state, params)
            self.inbox.add((state.token, message["chat"]["id"]), message)
            return message

        async def _send_document(self, state: Any, params: dict[str, Any]) -> Any:
            message = await super()._send_document(state, params)
            self.inbox.add((state.token, message["chat"]["id"]), message)
            return message

        async def _send_photo(self, state: Any, params: dict[str, Any]) -> Any:
            message = await super()._send_photo(state, params)
            self.inbox.add((state.token, message["chat"]["id"]), message)
            return message

    return BenchBotAPI


class FakeGateway:
    """Melipayamak's SendSMS on 127.0.0.1: records each SMS by recipient, answers a recId."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self._runner: web.AppRunner | None = None
        self._rec_ids = itertools.count(5_084_273_640_112_846_720)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/SendSMS"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/SendSMS/SendSMS", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.inbox.add(str(form.get("to", "")), str(form.get("text", "")))
        answer = {"Value": str(next(self._rec_ids)), "RetStatus": 1, "StrRetStatus": "Ok"}
        return web.json_response(answer)


@dataclass
class Sample:
    step: str
    started: float
    answered: float | None  # when the last message of the answer arrived; None: no answer
    replies: int
    expected: int

    @property
    def latency(self) -> float | None:
        return None if self.answered is None else self.answered - self.started


@dataclass
class Run:
    """One scenario against one target."""

    scenario: str
    target: str
    planned: int = 0  # updates the run was to post; fewer when its time ran out
    samples: list[Sample] = field(default_factory=list)
    extra_replies: int = 0  # replies that came after the run, for no update of it
    db_doubled: int = 0
    failures: list[str] = field(default_factory=list)  # flows that could not go on, and why
    retries: int = 0
    cpu_target: float = float("nan")  # percent of one core, over the run
    cpu_bench: float = float("nan")
    codes: list[str] = field(default_factory=list)  # tracking codes the filings got

    @property
    def updates(self) -> int:
        return len(self.samples)

    @property
    def cut(self) -> bool:
        return self.updates < self.planned

    @property
    def lost(self) -> int:
        return sum(1 for s in self.samples if s.replies < s.expected)

    @property
    def doubled(self) -> int:
        over = sum(1 for s in self.samples if s.replies > s.expected)
        return over + self.extra_replies + self.db_doubled

    def latencies(self, step: str | None = None) -> list[float]:
        return [
            s.latency
            for s in self.samples
            if s.latency is not None and (step is None or s.step == step)
        ]

    @property
    def rate(self) -> float:
        answered = [s.answered for s in self.samples if s.answered is not None]
        if len(answered) < 2:
            return float("nan")
        span = max(answered) - min(s.started for s in self.samples)
        return len(answered) / span if span > 0 else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _stat(pid: int | str) -> list[str] | None:
    """A process's /proc stat fields after its name: state, parent, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a process and its children (Linux /proc): the desk's
    web app in several processes is gunicorn's master and its workers."""
    fields = _stat(pid)
    if fields is None:
        return float("nan")
    total = int(fields[11]) + int(fields[12])
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = _stat(stat.parent.name)
        if child is not None and int(child[1]) == pid:
            total += int(child[11]) + int(child[12])
    return total / os.sysconf("SC_CLK_TCK")


# ---- the targets -------------------------------------------------------------------------------


def derived_secret(secret: str, channel: str, purpose: str) -> str:
    """bot/app.py's webhook_secret: the path and header secrets derived from WEBHOOK_SECRET."""
    return hmac.new(secret.encode(), f"{purpose}:{channel}".encode(), hashlib.sha256).hexdigest()


@dataclass
class Target:
    name: str  # "floor" or "desk"
    token: str
    port: int
    webhook_path: str
    header_secret: str
    sms_path: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the process group, SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def wait_healthy(target: Target, log: Path, timeout: float = 90) -> None:
    assert target.process is not None
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if target.process.poll() is not None:
                raise RuntimeError(
                    f"{target.name} exited ({target.process.returncode}):\n{tail(log)}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(target.base + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{target.name} not healthy within {timeout:.0f} s:\n{tail(log)}")


# ---- the load ----------------------------------------------------------------------------------


class Bench:
    def __init__(self, api: Any, gateway: FakeGateway, http: aiohttp.ClientSession) -> None:
        self.api = api
        self.gateway = gateway
        self.http = http
        self.slots = asyncio.Semaphore(CLIENTS)
        self.ids = itertools.count(1)
        # This run's senders: 0912 and seven digits, counted from a random start.
        self.first_sender = secrets.randbelow(9_000_000)
        self.senders = 0
        # This run's users (a kept database, --database, has the earlier runs' users too).
        self.first_user = 80_000_000 + secrets.randbelow(10_000) * 100_000
        self.retries = 0
        self.post_errors: Counter[str] = Counter()
        self.budget = math.inf  # seconds a /start or SMS run may go on taking new updates

    def new_user(self) -> int:
        return self.first_user + next(self.ids)

    def new_sender(self) -> str:
        self.senders += 1
        return f"0912{self.first_sender + self.senders:07d}"

    def sms_rate_keys(self) -> list[str]:
        """The rate counters of this run's senders (RedisRateCounter's keys): their SMS, and
        their look-ups by tracking code."""
        from backend.constants import Channel
        from channels.inbound_rate import KEY_PREFIX, LOOKUP_PREFIX

        numbers = range(self.first_sender + 1, self.first_sender + self.senders + 1)
        prefixes = (KEY_PREFIX, f"{LOOKUP_PREFIX}{Channel.SMS}:")
        return [f"{prefix}+98912{number:07d}" for number in numbers for prefix in prefixes]

    async def post(
        self,
        url: str,
        *,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[float, bool]:
        """Posts (GETs, with params) once a client is free; when it was first sent, and if 200."""
        async with self.slots:
            started = time.monotonic()
            for attempt in range(ATTEMPTS):
                try:
                    if params is not None:
                        request = self.http.get(url, params=params, headers=headers)
                    else:
                        request = self.http.post(url, data=data, headers=headers)
                    async with request as response:
                        await response.read()
                        if response.status == 200:
                            return started, True
                        error = f"HTTP {response.status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = type(exc).__name__
                self.post_errors[error] += 1
                if attempt + 1 < ATTEMPTS:
                    self.retries += 1
                    await asyncio.sleep(0.5 * 2**attempt)
            return started, False

    async def send_update(
        self, target: Target, run: Run, user: int, step: str, update: dict[str, Any], expected: int
    ) -> list[dict[str, Any]]:
        """Posts one update to the target's webhook; the messages of its answer."""
        key = (target.token, user)
        before = self.api.inbox.count(key)
        served = self.api.complete_update(target.token, update)
        body = json.dumps(served, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": target.header_secret,
        }
        started, ok = await self.post(target.base + target.webhook_path, data=body, headers=headers)
        # The answer is sent before the webhook is answered; wait only when it was not.
        await self.api.inbox.wait_for(key, before + 1, REPLY_TIMEOUT if ok else 1.0)
        replies = self.api.inbox.items[key][before:]
        answered = replies[-1][0] if replies else None
        run.samples.append(Sample(step, started, answered, len(replies), expected))
        return [message for _, message in replies]

    async def look_up(
        self, target: Target, run: Run, sender: str, text: str, code: str | None
    ) -> str | None:
        """Pushes one SMS as Melipayamak does; the reply the gateway was asked to send."""
        before = self.gateway.inbox.count(sender)
        params = {"from": sender, "to": SMS_LINE, "body": text}
        started, ok = await self.post(target.base + target.sms_path, params=params)
        await self.gateway.inbox.wait_for(sender, before + 1, REPLY_TIMEOUT if ok else 1.0)
        replies = self.gateway.inbox.items[sender][before:]
        answered = replies[-1][0] if replies else None
        run.samples.append(Sample("lookup", started, answered, len(replies), 1))
        if replies and code is not None and code not in replies[-1][1].translate(ASCII_DIGITS):
            run.failures.append(f"look-up of {code}: reply without the code: {replies[-1][1]!r}")
        return replies[-1][1] if replies else None


def pressed_message(replies: list[dict[str, Any]], data: str | None) -> int | None:
    """The id of the latest message carrying button `data` (any button when None)."""
    for message in reversed(replies):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [button.get("callback_data") for row in rows for button in row]
        if buttons and (data is None or data in buttons):
            return int(message["message_id"])
    return None


def buttons_of(replies: list[dict[str, Any]], prefix: str) -> list[str]:
    return [
        str(button.get("callback_data"))
        for message in replies
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
        if str(button.get("callback_data", "")).startswith(prefix)
    ]


def tracking_code_in(replies: list[dict[str, Any]]) -> str | None:
    for message in replies:
        text = re.sub(r"<[^>]+>", " ", str(message.get("text", "")))
        match = TRACKING_CODE.search(text)
        if match:
            return match.group().translate(ASCII_DIGITS)
    return None


class FlowBroken(Exception):
    """The desk's answer did not offer what the filing needs next."""


class Filer:
    """One subscriber filing a bill review; against the floor the same updates, unchecked."""

    def __init__(
        self,
        bench: Bench,
        target: Target,
        run: Run,
        expected: dict[str, int],
        bill_id: str,
        bill_index: int,
    ) -> None:
        self.bench, self.target, self.run = bench, target, run
        self.expected = expected
        self.bill_id, self.bill_index = bill_id, bill_index
        self.user = bench.new_user()
        self.checked = target.name == "desk"
        self.seen: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    async def _send(self, step: str, update: dict[str, Any]) -> list[dict[str, Any]]:
        replies = await self.bench.send_update(
            self.target, self.run, self.user, step, update, self.expected.get(step, 1)
        )
        self.counts[step] = len(replies)
        if not replies:
            raise FlowBroken(f"{step}: no answer")
        self.seen.extend(replies)
        return replies

    async def say(self, step: str, text: str) -> list[dict[str, Any]]:
        from tests.fakes.bot_api import message_update

        return await self._send(step, message_update(self.user, text))

    async def press(self, step: str, data: str) -> list[dict[str, Any]]:
        from tests.fakes.bot_api import callback_update

        message_id = pressed_message(self.seen, data if self.checked else None)
        if message_id is None:
            raise FlowBroken(f"{step}: no button {data!r} in the chat")
        return await self._send(step, callback_update(self.user, data, message_id))

    async def photo(self, step: str) -> list[dict[str, Any]]:
        from tests.fakes.bot_api import photo_update

        content = b"\xff\xd8\xff\xe0" + os.urandom(PHOTO_BYTES - 4)
        return await self._send(step, photo_update(self.user, content))

    def need(self, replies: list[dict[str, Any]], prefix: str, step: str) -> list[str]:
        found = buttons_of(replies, prefix)
        if self.checked and not found:
            text = " | ".join(str(m.get("text", ""))[:80] for m in replies)
            raise FlowBroken(f"after {step}: no {prefix!r} button ({text})")
        return found

    async def file(self) -> str | None:
        """The whole filing; the tracking code (desk) or None."""
        replies = await self.say("start", "/start")
        self.need(replies, "menu:review", "start")
        await self.press("menu", "menu:review")
        replies = await self.say("bill_id", self.bill_id)
        bills = self.need(replies, "bill:", "bill_id")
        choice = bills[self.bill_index % len(bills)] if bills else "bill:1"
        replies = await self.press("bill", choice)
        self.need(replies, "reason:", "bill")
        replies = await self.press("reason", "reason:wrong_reading")
        await self.say("description", DESCRIPTION)
        replies = await self.photo("photo")
        self.need(replies, "docs:done", "photo")
        replies = await self.press("done", "docs:done")
        self.need(replies, "summary:confirm", "done")
        replies = await self.press("confirm", "summary:confirm")
        if not self.checked:
            return None
        code = tracking_code_in(replies)
        if code is None:
            text = " | ".join(str(m.get("text", ""))[:80] for m in replies)
            raise FlowBroken(f"confirm: no tracking code ({text})")
        return code


# ---- the scenarios -----------------------------------------------------------------------------


@dataclass
class Calibration:
    start_replies: int
    filing_replies: dict[str, int]
    menu: dict[str, Any]  # the desk's /start answer: text, parse_mode, reply_markup
    sms_reply: str
    lookup_replies: int
    code: str  # the request the calibration filed


@dataclass
class World:
    bill_ids: list[str]  # the demo subscriptions' bill IDs
    db_url: str


async def with_cpu(
    target: Target, run: Run, work: Callable[[], Awaitable[None]], bench: Bench
) -> Run:
    assert target.process is not None
    pid = target.process.pid
    before, mine, wall = cpu_seconds(pid), time.process_time(), time.monotonic()
    await asyncio.wait_for(work(), RUN_TIMEOUT)
    wall = time.monotonic() - wall
    run.cpu_target = (cpu_seconds(pid) - before) / wall * 100
    run.cpu_bench = (time.process_time() - mine) / wall * 100
    # Anything that comes after the run was asked for by no update of it.
    await asyncio.sleep(0.5)
    return run


async def run_start(bench: Bench, target: Target, users_count: int, cal: Calibration) -> Run:
    from tests.fakes.bot_api import message_update

    run = Run("/start", target.name, users_count)
    expected = cal.start_replies if target.name == "desk" else 1
    users = [bench.new_user() for _ in range(users_count)]
    queue = list(users)
    stop_at = time.monotonic() + bench.budget

    async def client() -> None:
        while queue and time.monotonic() < stop_at:
            user = queue.pop()
            await bench.send_update(
                target, run, user, "start", message_update(user, "/start"), expected
            )

    async def work() -> None:
        retries = bench.retries
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        run.retries = bench.retries - retries

    await with_cpu(target, run, work, bench)
    count_extra(bench, target, run, users)
    return run


def count_extra(bench: Bench, target: Target, run: Run, users: list[int]) -> None:
    """Replies to the run's chats beyond those its updates were answered with."""
    counted = sum(s.replies for s in run.samples)
    received = sum(bench.api.inbox.count((target.token, user)) for user in users)
    run.extra_replies = max(0, received - counted)


def forget_earlier_runs(db_url: str) -> None:
    """A kept database remembers the updates of earlier runs, whose ids this run uses again (the
    fake Bot API counts from the same first id, the users are numbered alike): forgotten, or
    every update would be answered as a redelivery, with nothing."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM processed_event")
    finally:
        engine.dispose()


def close_open_reviews(db_url: str, bill_ids: list[str]) -> int:
    import sqlalchemy as sa

    from backend.constants import FINAL_STATUSES, RequestKind, RequestStatus

    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(
                sa.text(
                    "UPDATE service_request SET status = :closed "
                    "WHERE kind = :kind AND NOT (status = ANY(:final)) AND subscription_id IN "
                    "(SELECT id FROM subscription WHERE bill_id = ANY(:bill_ids))"
                ),
                {
                    "bill_ids": bill_ids,
                    "closed": RequestStatus.CLOSED.value,
                    "kind": RequestKind.BILL_REVIEW.value,
                    "final": [status.value for status in FINAL_STATUSES],
                },
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()


def filings_per_user(db_url: str, users: list[int]) -> Counter[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT channel_user_id, count(*) FROM service_request "
                    "WHERE channel = 'telegram' AND channel_user_id = ANY(:users) "
                    "GROUP BY channel_user_id"
                ),
                {"users": [str(user) for user in users]},
            )
            return Counter({str(user): int(count) for user, count in rows})
    finally:
        engine.dispose()


async def run_filing(
    bench: Bench, target: Target, users: int, cal: Calibration, world: World
) -> Run:
    run = Run("filing", target.name, users * len(FILING_STEPS))
    if target.name == "desk":
        await asyncio.to_thread(close_open_reviews, world.db_url, world.bill_ids)
    expected = cal.filing_replies if target.name == "desk" else dict.fromkeys(FILING_STEPS, 1)
    subscriptions = len(world.bill_ids)
    filers = [
        Filer(bench, target, run, expected, world.bill_ids[i % subscriptions], i // subscriptions)
        for i in range(users)
    ]

    async def one(filer: Filer) -> None:
        try:
            code = await filer.file()
        except FlowBroken as error:
            run.failures.append(str(error))
            return
        if code is not None:
            run.codes.append(code)

    async def work() -> None:
        retries = bench.retries
        await asyncio.gather(*(one(filer) for filer in filers))
        run.retries = bench.retries - retries

    await with_cpu(target, run, work, bench)
    count_extra(bench, target, run, [filer.user for filer in filers])
    if target.name == "desk":
        per_user = await asyncio.to_thread(
            filings_per_user, world.db_url, [filer.user for filer in filers]
        )
        run.db_doubled = sum(n - 1 for n in per_user.values() if n > 1)
        missing = len(run.codes) - sum(1 for f in filers if per_user.get(str(f.user)))
        if missing > 0:
            run.failures.append(f"{missing} users got a tracking code but have no request filed")
    return run


def lookup_text(code: str, variant: int) -> str:
    if variant % 2 == 0:
        return code
    return f"سلام، وضعیت درخواست {code.translate(PERSIAN_DIGITS)} چیه؟"


async def run_sms(
    bench: Bench, target: Target, senders: int, per_sender: int, codes: list[str]
) -> Run:
    run = Run("sms", target.name)
    if not codes:
        run.failures.append("no tracking codes to look up")
        return run
    per_sender = min(per_sender, len(codes))  # a sender's look-ups are all different texts
    numbers = [bench.new_sender() for _ in range(senders)]
    # Each client has senders of its own, taken round-robin: a sender's look-ups never overlap
    # (a reply is matched to its look-up by the sender's count of replies), and its next one
    # comes after the client's other senders'.
    queues = [
        [
            (numbers[j], codes[(j * per_sender + k) % len(codes)], k)
            for k in range(per_sender)
            for j in range(i, senders, CLIENTS)
        ]
        for i in range(CLIENTS)
    ]
    run.planned = sum(len(queue) for queue in queues)
    check = target.name == "desk"

    stop_at = time.monotonic() + bench.budget

    async def client(queue: list[tuple[str, str, int]]) -> None:
        for sender, code, variant in queue:
            if time.monotonic() >= stop_at:
                return
            await bench.look_up(
                target, run, sender, lookup_text(code, variant), code if check else None
            )

    async def work() -> None:
        retries = bench.retries
        await asyncio.gather(*(client(queue) for queue in queues))
        run.retries = bench.retries - retries

    await with_cpu(target, run, work, bench)
    counted = sum(s.replies for s in run.samples)
    received = sum(bench.gateway.inbox.count(number) for number in numbers)
    run.extra_replies = max(0, received - counted)
    return run


async def calibrate(bench: Bench, desk: Target, world: World) -> Calibration:
    """One user at a time on the desk: how many messages each answer has, and the reply shapes."""
    from tests.fakes.bot_api import message_update

    run = Run("calibration", "desk")
    user = bench.new_user()
    replies = await bench.send_update(desk, run, user, "start", message_update(user, "/start"), 1)
    if not replies or not buttons_of(replies, "menu:"):
        raise RuntimeError(f"the desk's /start answer has no menu: {replies}")
    menu_message = next(m for m in reversed(replies) if m.get("reply_markup"))
    calls = bench.api.calls("sendMessage", token=DESK_TOKEN)
    parse_mode = next(
        (c.params.get("parse_mode") for c in reversed(calls) if c.status == 200), None
    )
    menu = {
        "text": menu_message["text"],
        "parse_mode": parse_mode,
        "reply_markup": menu_message["reply_markup"],
    }
    start_replies = len(replies)
    filer = Filer(bench, desk, run, {}, world.bill_ids[0], 5)
    try:
        code = await filer.file()
    except FlowBroken as error:
        raise RuntimeError(f"the desk could not file a review: {error}") from None
    assert code is not None
    filing_replies = dict(filer.counts)
    sender = bench.new_sender()
    sms_reply = await bench.look_up(desk, run, sender, code, code)
    if sms_reply is None or run.failures:
        raise RuntimeError(f"the desk's SMS look-up failed: {sms_reply!r} {run.failures}")
    lookup_replies = run.samples[-1].replies
    print(
        f"calibrated on the desk, one user at a time: /start {start_replies} message(s), "
        f"filing {' '.join(f'{k}={v}' for k, v in filing_replies.items())}, "
        f"SMS look-up {lookup_replies} reply; {len(run.samples)} updates, "
        f"latencies {', '.join(f'{s.step} {1000 * (s.latency or 0):.0f}' for s in run.samples)} ms",
        flush=True,
    )
    return Calibration(start_replies, filing_replies, menu, sms_reply, lookup_replies, code)


# ---- reporting ---------------------------------------------------------------------------------

HEADER = (
    f"{'scenario':<8} {'target':<6} {'updates':>7} {'upd/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'ratio':>6} {'lost':>5} {'doubled':>7} {'retried':>7} {'cpu tgt':>7} {'cpu bench':>9}"
)


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def row(run: Run, floor: Run | None) -> str:
    ratio = run.rate / floor.rate if floor is not None and run.target == "desk" else float("nan")
    latencies = run.latencies()
    return (
        f"{run.scenario:<8} {run.target:<6} {run.updates:>6}{'*' if run.cut else ' '} "
        f"{run.rate:>8.1f} "
        f"{ms(percentile(latencies, 50)):>8} {ms(percentile(latencies, 99)):>8} "
        f"{'-' if math.isnan(ratio) else f'{ratio:.2f}':>6} {run.lost:>5} {run.doubled:>7} "
        f"{run.retries:>7} {run.cpu_target:>6.0f}% {run.cpu_bench:>8.0f}%"
    )


def print_round(number: int, order: str, runs: list[Run]) -> None:
    print(f"\nround {number} ({order} first), load average {os.getloadavg()[0]:.2f}", flush=True)
    print(HEADER)
    floors = {r.scenario: r for r in runs if r.target == "floor"}
    for run in runs:
        print(row(run, floors.get(run.scenario)))
        for failure in Counter(run.failures).most_common(3):
            print(f"    {run.scenario} {run.target}: {failure[1]} x {failure[0]}")
    if any(run.cut for run in runs):
        print("(* its time ran out before all its updates were posted: --run-seconds)")
    sys.stdout.flush()


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else float("nan")


def print_medians(rounds: list[list[Run]]) -> dict[str, float]:
    print(f"\nmedians across {len(rounds)} round(s) (lost, doubled, retried: totals)")
    print(HEADER)
    figures: dict[str, float] = {}
    for scenario in SCENARIOS:
        for target in ("floor", "desk"):
            runs = [
                r for rnd in rounds for r in rnd if r.scenario == scenario and r.target == target
            ]
            if not runs:
                continue
            floors = {
                i: r
                for i, rnd in enumerate(rounds)
                for r in rnd
                if r.scenario == scenario and r.target == "floor"
            }
            ratios = [
                r.rate / floors[i].rate
                for i, rnd in enumerate(rounds)
                for r in rnd
                if r.scenario == scenario and r.target == "desk" and i in floors
            ]
            rate = median([r.rate for r in runs])
            p50 = median([percentile(r.latencies(), 50) for r in runs])
            p99 = median([percentile(r.latencies(), 99) for r in runs])
            ratio = median(ratios) if target == "desk" else float("nan")
            lost = sum(r.lost for r in runs)
            doubled = sum(r.doubled for r in runs)
            print(
                f"{scenario:<8} {target:<6} {median([r.updates for r in runs]):>7.0f} {rate:>8.1f} "
                f"{ms(p50):>8} {ms(p99):>8} {'-' if math.isnan(ratio) else f'{ratio:.2f}':>6} "
                f"{lost:>5} {doubled:>7} {sum(r.retries for r in runs):>7} "
                f"{median([r.cpu_target for r in runs]):>6.0f}% "
                f"{median([r.cpu_bench for r in runs]):>8.0f}%"
            )
            key = f"{scenario}:{target}"
            figures.update(
                {
                    f"{key}:rate": rate,
                    f"{key}:p99": p99,
                    f"{key}:ratio": ratio,
                    f"{key}:lost": lost,
                    f"{key}:doubled": doubled,
                }
            )
    desk_filings = [
        r for rnd in rounds for r in rnd if r.scenario == "filing" and r.target == "desk"
    ]
    if desk_filings:
        print("\ndesk filing, per step (medians across rounds)")
        print(f"{'step':<12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        worst = 0.0
        for step in FILING_STEPS:
            p50 = median([percentile(r.latencies(step), 50) for r in desk_filings])
            p99 = median([percentile(r.latencies(step), 99) for r in desk_filings])
            top = median([max(r.latencies(step), default=float("nan")) for r in desk_filings])
            worst = max(worst, p99) if not math.isnan(p99) else worst
            print(f"{step:<12} {ms(p50):>8} {ms(p99):>8} {ms(top):>8}")
        figures["filing:desk:worst_step_p99"] = worst
    return figures


def print_targets(figures: dict[str, float]) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    start_ratio = figures.get("/start:desk:ratio", float("nan"))
    start_p99 = figures.get("/start:desk:p99", float("nan")) * 1000
    step_p99 = figures.get("filing:desk:worst_step_p99", float("nan")) * 1000
    filing_p99 = figures.get("filing:desk:p99", float("nan")) * 1000
    lost = figures.get("filing:desk:lost", 0) + figures.get("/start:desk:lost", 0)
    doubled = figures.get("filing:desk:doubled", 0) + figures.get("/start:desk:doubled", 0)
    sms_lost = figures.get("sms:desk:lost", 0)
    sms_doubled = figures.get("sms:desk:doubled", 0)
    sms_rate = figures.get("sms:desk:rate", float("nan"))
    sms_p99 = figures.get("sms:desk:p99", float("nan")) * 1000
    print("\ntargets (desk, medians)")
    print(f"  /start: {start_ratio:.2f} of the floor's updates/s (>= 0.5): ", end="")
    print(verdict(start_ratio >= 0.5))
    print(f"  /start: p99 {start_p99:.0f} ms (<= 150 ms): {verdict(start_p99 <= 150)}")
    print(
        f"  filings: worst step p99 {step_p99:.0f} ms, all steps p99 {filing_p99:.0f} ms "
        f"(<= 250 ms per step): {verdict(step_p99 <= 250)}"
    )
    print(
        f"  messengers: {lost:.0f} lost, {doubled:.0f} doubled; SMS: {sms_lost:.0f} lost, "
        f"{sms_doubled:.0f} doubled (0, 0): {verdict(lost + doubled + sms_lost + sms_doubled == 0)}"
    )
    print(f"  SMS look-ups: {sms_rate:.0f}/s (>= 500/s): {verdict(sms_rate >= 500)}")
    print(f"  SMS look-ups: p99 {sms_p99:.0f} ms (<= 100 ms): {verdict(sms_p99 <= 100)}")


# ---- profiling ---------------------------------------------------------------------------------


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
PRODUCT = ("bot/", "dialogs/", "backend/", "notifications/", "channels/", "locales/")


def _frame(text: str) -> tuple[str, str] | None:
    """A raw frame "name (path:line)" as (name, short path) and the package it belongs to."""
    match = FRAME.match(text.strip())
    if match is None:
        return None
    path = match["file"].removeprefix(str(ROOT) + "/")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    else:
        path = re.sub(r"^.*/lib/python3\.\d+/", "", path)
    return f"{match['name']} ({path})", path.split("/", 1)[0].removesuffix(".py")


def hot_spots(raw: Path, top: int = 12) -> str:
    """Self and inclusive shares of the sampled stacks (py-spy's raw, collapsed format)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [f for f in map(_frame, stack.split(";")) if f is not None]
        if not frames:
            continue
        count = int(count_text)
        total += count
        own[frames[-1][0]] += count
        for name in {name for name, _ in frames}:
            inclusive[name] += count
        # The package a sample is spent in: its innermost frame's, the desk's code as one.
        package = frames[-1][1]
        packages["the desk's code" if f"{package}/" in PRODUCT else package] += count
    if not total:
        return "  (no samples)"

    def share(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    lines = [f"  {total} samples; by package of the running frame:"]
    lines += [f"    {share(n)}  {package}" for package, n in packages.most_common(top)]
    lines.append("  self (the frame running):")
    lines += [f"    {share(n)}  {frame}" for frame, n in own.most_common(top)]
    ours = [
        (frame, n) for frame, n in inclusive.most_common() if any(f"({p}" in frame for p in PRODUCT)
    ]
    lines.append("  inclusive, the desk's own functions (the frame and what it called):")
    lines += [f"    {share(n)}  {frame}" for frame, n in ours[: 2 * top]]
    return "\n".join(lines)


@contextlib.contextmanager
def profiling(pid: int, output: Path, *, gil: bool) -> Iterator[None]:
    binary = py_spy()
    assert binary is not None
    recorder = subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "250",
            "--format",
            "raw",
            *(["--gil"] if gil else []),
            "--nonblocking",
            "--subprocesses",  # gunicorn's workers, when the web app runs in several
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # attached before the load starts
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            _, err = recorder.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            _, err = recorder.communicate()
        if recorder.returncode not in (0, -signal.SIGINT) and not output.exists():
            print(f"py-spy failed: {err.decode(errors='replace')[-500:]}", file=sys.stderr)


# ---- the run -----------------------------------------------------------------------------------


@dataclass
class Sizes:
    start_users: int
    filing_users: int
    sms_senders: int
    lookups_per_sender: int


def create_database(admin_url: str) -> tuple[str, str]:
    import sqlalchemy as sa

    name = f"bench_interactive_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return name, url


def drop_database(admin_url: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def demo_bill_ids(db_url: str) -> list[str]:
    import sqlalchemy as sa

    from backend import demo

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            # The demo's subscriptions: on a larger database seeded after the demo
            # (bench/province.py), still its first ones.
            query = sa.text("SELECT bill_id FROM subscription ORDER BY id LIMIT :n")
            rows = connection.execute(query, {"n": demo.SUBSCRIPTIONS})
            return [str(bill_id) for (bill_id,) in rows]
    finally:
        engine.dispose()


def base_env() -> dict[str, str]:
    """The environment without any of the desk's settings that this machine may have set."""
    settings = (
        "DATABASE_URL",
        "REDIS_URL",
        "TELEGRAM_",
        "BALE_",
        "WEBHOOK_SECRET",
        "SMS_",
        "KAVENEGAR_",
        "MELIPAYAMAK_",
        "PORT",
        "WEB_HOST",
        "FILES_DIR",
        "PUBLIC_BASE_URL",
        "PAYMENT_PROVIDER",
    )
    return {k: v for k, v in os.environ.items() if not k.startswith(settings)}


async def start_desk(
    env: dict[str, str], desk: Target, log: Path, attempts: int, pause: float
) -> None:
    for attempt in range(1, attempts + 1):
        desk.process = start_process([sys.executable, "-m", "bot", "web"], env, log)
        try:
            await wait_healthy(desk, log)
            return
        except RuntimeError as error:
            stop_process(desk.process)
            desk.process = None
            if attempt == attempts:
                raise
            print(
                f"`python -m bot web` did not start (attempt {attempt}/{attempts}); "
                f"retrying in {pause:.0f} s:\n{error}",
                file=sys.stderr,
                flush=True,
            )
            await asyncio.sleep(pause)


async def bench_main(args: argparse.Namespace, sizes: Sizes, db_url: str, logs: Path) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    api = _load_fakes()()
    gateway = FakeGateway()
    await api.start()
    await gateway.start()
    api.register_bot(DESK_TOKEN, username="barq_desk_bot")
    api.register_bot(FLOOR_TOKEN, username="barq_floor_bot")
    webhook_secret = secrets.token_urlsafe(48)  # 64 characters
    sms_secret = secrets.token_urlsafe(36)  # 48 characters
    files = tempfile.TemporaryDirectory(prefix="bench-interactive-")
    desk = Target(
        "desk",
        DESK_TOKEN,
        free_port(),
        f"/webhook/telegram/{derived_secret(webhook_secret, 'telegram', 'path')}",
        derived_secret(webhook_secret, "telegram", "header"),
        f"/sms/melipayamak/{sms_secret}",
    )
    floor = Target(
        "floor",
        FLOOR_TOKEN,
        free_port(),
        f"/webhook/floor/{secrets.token_hex(16)}",
        secrets.token_hex(16),
        f"/sms/melipayamak/{sms_secret}",
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    desk_env = {
        **base_env(),
        "DATABASE_URL": db_url,
        "FILES_DIR": files.name,
        "TELEGRAM_BOT_TOKEN": DESK_TOKEN,
        "TELEGRAM_API_BASE": api.base_url,
        "WEBHOOK_SECRET": webhook_secret,
        "WEB_HOST": "127.0.0.1",
        "PORT": str(desk.port),
        "PUBLIC_BASE_URL": desk.base,
        "SMS_PROVIDER": "melipayamak",
        "MELIPAYAMAK_USERNAME": "bench",
        "MELIPAYAMAK_PASSWORD": secrets.token_urlsafe(16),
        "SMS_SENDER": SMS_LINE,
        "SMS_API_BASE": gateway.base_url,
        "SMS_WEBHOOK_SECRET": sms_secret,
    }
    if args.redis:
        desk_env["REDIS_URL"] = redis_url
    if args.telegram_rate:
        desk_env["TELEGRAM_RATE"] = str(args.telegram_rate)
    desk_env["WEB_PROCESSES"] = str(args.web_processes)
    desk_log = logs / f"interactive-{stamp}-desk.log"
    floor_log = logs / f"interactive-{stamp}-floor.log"
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    http = aiohttp.ClientSession(timeout=timeout, connector=connector)
    bench = Bench(api, gateway, http)
    bench.budget = args.run_seconds
    try:
        world = World(demo_bill_ids(db_url), db_url)
        if not world.bill_ids:
            raise RuntimeError("no demo subscriptions after seed-demo")
        if sizes.filing_users > 4 * len(world.bill_ids):  # 6 bills each; 5 kept for calibration
            raise RuntimeError(f"at most {4 * len(world.bill_ids)} filing users")
        await start_desk(desk_env, desk, desk_log, args.start_attempts, 60)
        calibration = await calibrate(bench, desk, world)
        floor_env = {
            **base_env(),
            "BENCH_FLOOR": json.dumps(
                {
                    "token": FLOOR_TOKEN,
                    "api_base": api.base_url,
                    "port": floor.port,
                    "path": floor.webhook_path,
                    "header_secret": floor.header_secret,
                    "menu": calibration.menu,
                    "sms_path": floor.sms_path,
                    "sms_send_url": gateway.base_url + "/SendSMS",
                    "sms_reply": calibration.sms_reply,
                },
                ensure_ascii=False,
            ),
        }
        floor.process = start_process(
            [sys.executable, str(Path(__file__).resolve()), "--floor-server"], floor_env, floor_log
        )
        await wait_healthy(floor, floor_log)
        # Warm the floor up as the calibration warmed the desk.
        await run_start(bench, floor, 20, calibration)
        print(
            f"desk pid {desk.process.pid if desk.process else '?'} on :{desk.port}, floor on "
            f":{floor.port}; {CLIENTS} clients; sizes: /start {sizes.start_users} users, "
            f"filing {sizes.filing_users} users x {len(FILING_STEPS)} updates, "
            f"sms {sizes.sms_senders} senders x {sizes.lookups_per_sender}; "
            f"SMS rate counter in {'Redis' if args.redis else 'memory'}; "
            f"TELEGRAM_RATE {args.telegram_rate or 'default'}, WEB_PROCESSES "
            f"{args.web_processes}; logs {desk_log.parent}",
            flush=True,
        )
        rounds: list[list[Run]] = []
        all_codes = [calibration.code]
        for number in range(1, args.rounds + 1):
            order = (floor, desk) if number % 2 else (desk, floor)
            runs: list[Run] = []
            for target in order:
                runs.append(await run_start(bench, target, sizes.start_users, calibration))
            codes: list[str] = []
            for target in order:
                run = await run_filing(bench, target, sizes.filing_users, calibration, world)
                codes.extend(run.codes)
                runs.append(run)
            all_codes.extend(codes)
            if len(codes) < sizes.lookups_per_sender:  # too few filed: earlier ones too
                codes = all_codes
            for target in order:
                runs.append(
                    await run_sms(bench, target, sizes.sms_senders, sizes.lookups_per_sender, codes)
                )
            runs.sort(key=lambda r: (SCENARIOS.index(r.scenario), r.target != "floor"))
            print_round(number, order[0].name, runs)
            rounds.append(runs)
        if rounds:
            print_targets(print_medians(rounds))
        if bench.post_errors:
            print(f"webhook answers other than 200 (each posted again): {dict(bench.post_errors)}")
        if args.profile:
            await profile_pass(
                bench, desk, sizes, calibration, world, logs, stamp, gil=not args.profile_cpu
            )
    finally:
        await http.close()
        stop_process(floor.process)
        stop_process(desk.process)
        await api.stop()
        await gateway.stop()
        files.cleanup()
        if args.redis:
            forget_rate_counters(redis_url, bench.sms_rate_keys())


async def profile_pass(
    bench: Bench,
    desk: Target,
    sizes: Sizes,
    calibration: Calibration,
    world: World,
    logs: Path,
    stamp: str,
    *,
    gil: bool,
) -> None:
    if py_spy() is None:
        print("\n--profile: py-spy is not installed (pip install py-spy==0.4.3)")
        return
    assert desk.process is not None
    pid = desk.process.pid
    what = "thread holding the GIL" if gil else "active threads"
    print(f"\nprofile: one more pass on the desk alone, py-spy sampling its {what} at 250 Hz")
    codes = [calibration.code]
    scenarios: list[tuple[str, Callable[[], Awaitable[Run]]]] = [
        ("start", lambda: run_start(bench, desk, sizes.start_users, calibration)),
        ("filing", lambda: run_filing(bench, desk, sizes.filing_users, calibration, world)),
        (
            "sms",
            lambda: run_sms(bench, desk, sizes.sms_senders, sizes.lookups_per_sender, codes),
        ),
    ]
    for name, work in scenarios:
        output = logs / f"interactive-{stamp}-profile-{name}.txt"
        with profiling(pid, output, gil=gil):
            run = await work()
        if name == "filing":
            codes.extend(run.codes)
        print(f"\n{name} ({run.updates} updates, {run.rate:.1f}/s under the profiler); {output}")
        if output.exists():
            print(hot_spots(output))


def forget_rate_counters(redis_url: str, sms_keys: list[str]) -> None:
    """Removes this run's keys: its senders' SMS counters, the bench token's Bot API limiter."""
    try:
        import redis
    except ImportError:
        return
    limiter = "rate:" + hashlib.sha256(DESK_TOKEN.encode()).hexdigest()[:16]  # RedisLimiter's
    with contextlib.suppress(redis.exceptions.RedisError):
        connection = redis.Redis.from_url(redis_url)
        keys = [*sms_keys, *connection.scan_iter(f"{limiter}:*")]
        for start in range(0, len(keys), 1000):
            connection.delete(*keys[start : start + 1000])
        connection.close()


def redis_reachable(url: str) -> bool:
    try:
        import redis

        connection = redis.Redis.from_url(url, socket_connect_timeout=2)
        connection.ping()
        connection.close()
        return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a short smoke run: 1 round, small")
    parser.add_argument("--profile", action="store_true", help="py-spy the desk after the rounds")
    parser.add_argument(
        "--profile-cpu",
        action="store_true",
        help="sample every thread py-spy finds active, not only the one holding the GIL",
    )
    parser.add_argument(
        "--telegram-rate",
        type=int,
        default=0,
        help="the desk's TELEGRAM_RATE (Bot API calls a second per token; default: the desk's)",
    )
    parser.add_argument(
        "--web-processes",
        type=int,
        default=1,
        help="the desk's WEB_PROCESSES (the web app's processes on its one port)",
    )
    parser.add_argument(
        "--run-seconds",
        type=float,
        default=45,
        help="how long a /start or SMS run goes on posting (filings always finish)",
    )
    parser.add_argument("--start-attempts", type=int, default=3)
    parser.add_argument(
        "--start-users",
        type=int,
        default=200,
        help="new users sending /start in a run (more: a steadier figure than a burst)",
    )
    parser.add_argument(
        "--sms-senders",
        type=int,
        default=200,
        help="new senders of 5 SMS look-ups each in a run",
    )
    parser.add_argument(
        "--database",
        help="an existing database, migrated and seeded with the demo first (bench/province.py's"
        " desk_province): used as it is and kept, instead of a fresh demo database",
    )
    parser.add_argument("--floor-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_server:
        floor_server()
        return
    if args.quick:
        args.rounds = min(args.rounds, 1)
        sizes = Sizes(start_users=50, filing_users=20, sms_senders=50, lookups_per_sender=2)
    else:
        sizes = Sizes(
            start_users=args.start_users,
            filing_users=100,
            sms_senders=args.sms_senders,
            lookups_per_sender=5,
        )
    admin_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args.redis = redis_reachable(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    if not args.redis:
        print("Redis not reachable: the desk counts SMS per sender in memory", file=sys.stderr)
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.database:
        subprocess.run(
            [sys.executable, "-m", "backend", "migrate"],
            env={**base_env(), "DATABASE_URL": args.database},
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        forget_earlier_runs(args.database)
        asyncio.run(bench_main(args, sizes, args.database, logs))
        print(f"\ntook {time.monotonic() - started:.0f} s", flush=True)
        return
    name, url = create_database(admin_url)
    try:
        env = {**base_env(), "DATABASE_URL": url}
        for command in (["migrate"], ["seed-demo"]):
            subprocess.run(
                [sys.executable, "-m", "backend", *command],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        asyncio.run(bench_main(args, sizes, url, logs))
    finally:
        drop_database(admin_url, name)
    print(f"\ntook {time.monotonic() - started:.0f} s", flush=True)


# ---- the floor: a bare aiogram webhook bot, no database ------------------------------------------


def floor_server() -> None:
    from aiogram import Bot, Dispatcher, Router
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    config = json.loads(os.environ["BENCH_FLOOR"])
    bot = Bot(
        config["token"],
        session=AiohttpSession(api=TelegramAPIServer.from_base(config["api_base"])),
    )
    text = config["menu"]["text"]
    parse_mode = config["menu"]["parse_mode"]
    markup = InlineKeyboardMarkup.model_validate(config["menu"]["reply_markup"])
    router = Router()

    @router.message()
    async def on_message(message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, text, parse_mode=parse_mode, reply_markup=markup)

    @router.callback_query()
    async def on_callback(query: CallbackQuery, bot: Bot) -> None:
        await bot.answer_callback_query(query.id)
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        await bot.send_message(chat_id, text, parse_mode=parse_mode, reply_markup=markup)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher, bot, secret_token=config["header_secret"], handle_in_background=False
    ).register(app, path=config["path"])
    clients: dict[str, aiohttp.ClientSession] = {}

    async def sms(request: web.Request) -> web.Response:
        sender = request.query.get("from", "")
        form = {
            "username": "bench",
            "password": "floor",
            "to": sender,
            "from": SMS_LINE,
            "text": config["sms_reply"],
            "isFlash": "false",
        }
        async with clients["sms"].post(config["sms_send_url"], data=form) as response:
            await response.read()
        return web.Response(text="OK")

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def on_startup(_: web.Application) -> None:
        clients["sms"] = aiohttp.ClientSession()

    async def on_cleanup(_: web.Application) -> None:
        await clients["sms"].close()
        await bot.session.close()

    app.router.add_get(config["sms_path"], sms)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    web.run_app(app, host="127.0.0.1", port=config["port"], print=None, access_log=None)


if __name__ == "__main__":
    main()
