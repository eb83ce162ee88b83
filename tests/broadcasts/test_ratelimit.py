"""The shared rate limiter: two workers on one token never pass the platform's limit; pauses."""

import asyncio
import multiprocessing
import threading
import time
import uuid

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from redis.asyncio import Redis

from channels import ratelimit
from channels.botapi import DeskSession, RateLimited
from channels.ratelimit import LocalLimiter, RedisLimiter, Slot
from tests.fakes.bot_api import FakeBotAPI

LIMIT = 20


def token() -> str:
    return f"{uuid.uuid4().int % 10**9}:limiter-test"


async def _work(
    api: FakeBotAPI,
    broadcast_redis: str,
    bot_token: str,
    chats: range,
    *,
    interactive: bool = False,
) -> None:
    """One worker: its own Redis connection, its own bot; every send takes a slot first."""
    connection = Redis.from_url(broadcast_redis)
    limiter = RedisLimiter(connection, bot_token, limit=LIMIT)
    bot = Bot(bot_token, session=DeskSession(api.base_url))
    try:
        for chat in chats:
            while True:
                slot = await limiter.acquire(str(chat), interactive=interactive)
                try:
                    await bot.send_message(chat, "notice")
                except (TelegramRetryAfter, RateLimited) as error:
                    await limiter.refused(slot, getattr(error, "retry_after", None))
                    continue
                await limiter.answered(slot)
                break
    finally:
        await bot.session.close()
        await connection.aclose()


def test_two_workers_share_one_bucket_and_never_get_a_429(
    fake_api: FakeBotAPI, broadcast_redis: str
) -> None:
    bot_token = token()
    fake_api.rate_limit(bot_token, LIMIT)
    ranges = [range(1000, 1030), range(2000, 2030)]
    threads = [
        threading.Thread(target=asyncio.run, args=(_work(fake_api, broadcast_redis, bot_token, r),))
        for r in ranges
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started
    calls = fake_api.calls("sendMessage", token=bot_token)
    assert [call.status for call in calls] == [200] * 60
    # 20 a second between them both, so 60 take over 2 s, and no second sees more than 20.
    assert elapsed > 2.0
    stamps = sorted(call.time for call in calls)
    assert all(later - first > 1.0 for first, later in zip(stamps, stamps[LIMIT:], strict=False))


def test_replies_among_a_broadcast_at_full_rate_get_no_429(
    fake_api: FakeBotAPI, broadcast_redis: str
) -> None:
    bot_token = token()
    fake_api.rate_limit(bot_token, LIMIT)

    async def both() -> None:
        broadcast = asyncio.create_task(
            _work(fake_api, broadcast_redis, bot_token, range(3000, 3040))
        )
        await asyncio.sleep(0.5)  # the broadcast fills the whole window by now
        await _work(fake_api, broadcast_redis, bot_token, range(4000, 4003), interactive=True)
        await broadcast

    asyncio.run(both())
    calls = fake_api.calls("sendMessage", token=bot_token)
    assert len(calls) == 43
    assert {call.status for call in calls} == {200}


def test_a_waiting_reply_takes_the_next_free_slot_and_bulk_waits(broadcast_redis: str) -> None:
    async def scenario() -> tuple[bool, bool]:
        connection = Redis.from_url(broadcast_redis)
        limiter = RedisLimiter(connection, token(), limit=20, window=0.3)
        held = [await limiter.acquire(interactive=True) for _ in range(20)]  # the window is full
        reply = asyncio.create_task(limiter.acquire("7", interactive=True))
        bulk = asyncio.create_task(limiter.acquire("8"))
        await asyncio.sleep(0.15)
        full = not reply.done() and not bulk.done()
        for slot in held:
            await limiter.answered(slot)  # they all free 0.3 s from now
        await asyncio.wait_for(asyncio.shield(reply), 2)
        await asyncio.sleep(0.15)  # far longer than bulk's pacing (0.3 / 40 s)
        # Twenty slots came free together: the reply took one, and bulk yields a while longer.
        bulk_yielded = not bulk.done()
        await asyncio.wait_for(bulk, 2)
        await connection.delete(*limiter.keys())
        await connection.aclose()
        return full, bulk_yielded

    assert asyncio.run(scenario()) == (True, True)


def test_a_429_pauses_the_whole_token_for_retry_after(broadcast_redis: str) -> None:
    async def scenario() -> tuple[float, float]:
        connection = Redis.from_url(broadcast_redis)
        first = RedisLimiter(connection, "1:t", limit=LIMIT)
        second = RedisLimiter(connection, "1:t", limit=LIMIT)  # another worker, same token
        slot = await first.acquire("1")
        paused = await first.refused(slot, 1)
        started = time.monotonic()
        answered = await second.acquire("2")
        await second.answered(answered)
        await connection.delete(*first.keys())
        await connection.aclose()
        return paused, time.monotonic() - started

    paused, waited = asyncio.run(scenario())
    assert paused == 1.0
    assert waited == pytest.approx(1.0, abs=0.2)


def test_a_bare_429_backs_off_2_4_8_seconds(broadcast_redis: str) -> None:
    async def scenario() -> list[float]:
        connection = Redis.from_url(broadcast_redis)
        limiter = RedisLimiter(connection, "2:bale", limit=LIMIT)
        pauses = []
        for _ in range(4):
            await connection.delete(f"{limiter.prefix}:pause")  # skip the waiting itself
            slot = await limiter.acquire()
            pauses.append(await limiter.refused(slot, None))
        await connection.delete(f"{limiter.prefix}:pause")
        slot = await limiter.acquire()
        await limiter.answered(slot)  # a call that gets through ends the backoff
        slot = await limiter.acquire()
        pauses.append(await limiter.refused(slot, None))
        await connection.delete(*limiter.keys())
        await connection.aclose()
        return pauses

    assert asyncio.run(scenario()) == [2.0, 4.0, 8.0, 8.0, 2.0]


def test_one_message_a_second_per_chat_and_the_same_rules_in_process() -> None:
    now = [0.0]
    limiter = LocalLimiter(limit=3, window=1.0, clock=lambda: now[0])

    async def later(call: "asyncio.Future[Slot]", at: float) -> Slot:
        await asyncio.sleep(0.15)
        assert not call.done()  # bulk calls are paced: one every third of a second
        now[0] = at
        return await call

    async def scenario() -> None:
        slots = [await limiter.acquire("0")]
        slots.append(await later(asyncio.ensure_future(limiter.acquire("1")), 0.34))
        slots.append(await later(asyncio.ensure_future(limiter.acquire("2")), 0.68))
        for slot in slots:
            await limiter.answered(slot)
        pending = asyncio.create_task(limiter.acquire("9"))
        await asyncio.sleep(0.15)
        assert not pending.done()  # three answered calls hold the window for a second
        now[0] = 1.69
        await limiter.answered(await pending)
        same_chat = asyncio.create_task(limiter.acquire("2"))
        await asyncio.sleep(0.15)
        assert not same_chat.done()  # chat 2 last got a message at 0.68
        now[0] = 2.1
        await asyncio.sleep(0.15)
        assert same_chat.done()
        pause = await limiter.refused(await same_chat, None)
        assert pause == 2.0

    asyncio.run(scenario())


def test_a_reply_goes_first_and_takes_no_chat_gap_in_process() -> None:
    now = [0.0]
    limiter = LocalLimiter(limit=2, window=1.0, clock=lambda: now[0])

    async def advance(to: float) -> None:
        """Time passes in steps, each seen by every waiting caller (they look every 0.1 s)."""
        while now[0] < to:
            now[0] = min(to, now[0] + 0.1)
            await asyncio.sleep(0.12)

    async def scenario() -> None:
        first = await limiter.acquire("7", interactive=True)
        second = await limiter.acquire("7", interactive=True)  # a reply after a reply: at once
        await limiter.answered(first)  # its slot frees at 1.0
        bulk = asyncio.create_task(limiter.acquire("9"))
        reply = asyncio.create_task(limiter.acquire("8", interactive=True))
        await advance(0.5)
        assert not reply.done() and not bulk.done()  # the window is full
        await limiter.answered(second)  # its slot frees at 1.5
        await advance(1.05)
        assert reply.done() and not bulk.done()  # the waiting reply first; bulk yields to it
        await advance(1.55)
        assert bulk.done()

    asyncio.run(scenario())


def test_an_answered_slot_is_given_back_by_the_next_acquire_in_the_same_script(
    broadcast_redis: str,
) -> None:
    """One script a call: the next acquire gives the answered slot back; with none coming, the
    slot is given back on its own a moment later, one window after its answer."""

    async def scenario() -> tuple[int, float, float]:
        connection = Redis.from_url(broadcast_redis)
        limiter = RedisLimiter(connection, token(), limit=LIMIT)
        scripts = 0
        evalsha = connection.evalsha

        def counted(*args: object) -> object:
            nonlocal scripts
            scripts += 1
            return evalsha(*args)  # type: ignore[arg-type]

        connection.evalsha = counted  # type: ignore[method-assign,assignment]
        slots = f"{limiter.prefix}:slots"
        first = await limiter.acquire(interactive=True)
        await limiter.answered(first)
        second = await limiter.acquire(interactive=True)  # gives the first back as well
        carried = scripts
        frees_in = (await connection.zscore(slots, first.member) or 0) / 1000 - time.time()
        await limiter.answered(second)
        deadline = time.monotonic() + 2
        while (await connection.zscore(slots, second.member) or 0) / 1000 > time.time() + 5:
            assert time.monotonic() < deadline, "the answered slot was never given back"
            await asyncio.sleep(0.01)
        alone = (await connection.zscore(slots, second.member) or 0) / 1000 - time.time()
        await connection.delete(*limiter.keys())
        await connection.aclose()
        return carried, frees_in, alone

    carried, frees_in, alone = asyncio.run(scenario())
    assert carried == 2  # two acquires, no separate release
    assert frees_in == pytest.approx(1.0, abs=0.2)  # a window after its answer, not the hold
    assert alone == pytest.approx(1.0, abs=0.2)


def test_slot_members_stay_unique_in_a_forked_job_process() -> None:
    """RQ forks a process per job: its slots must not take the names of its parent's."""
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        child = pool.apply(ratelimit._new_member)
    parent = ratelimit._new_member()
    assert child.split(":")[0] != parent.split(":")[0]
    assert ratelimit._new_member() != parent
