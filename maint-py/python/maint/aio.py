"""``maint.aio.Client``: the same methods as ``maint.Client``, as coroutines,
awaitable from any asyncio loop.

Each call runs the engine on the package's tokio runtime (the one every
``maint.Client`` call uses) from a worker thread of the loop's default
executor, with the GIL released while it waits on AWS, so the loop keeps
running and several services can be switched at once from one loop.

Cancellation never leaves a target half-switched behind the caller's back:
cancelling the awaiting task stops the waiting, not the switch. The call goes
on to the end of the change it started (every target switched, or reported
as failed), exactly as a synchronous call would, and the next ``status``
tells the truth. A caller that wants the outcome after cancelling awaits
``asyncio.shield(...)`` instead.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from maint._maint import Client as _SyncClient

__all__ = ["Client"]


class Client:
    """Puts load balancers into maintenance mode and back, through AWS WAF,
    from asyncio. Takes ``maint.Client``'s arguments; every method of
    ``maint.Client`` is a coroutine here, with the same arguments, results
    and exceptions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._client = _SyncClient(*args, **kwargs)

    @property
    def sync(self) -> _SyncClient:
        """The synchronous client the calls run on."""
        return self._client

    def __repr__(self) -> str:
        return f"aio.{self._client!r}"

    async def _run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        # The executor's thread runs the call to its end even when the
        # awaiting task is cancelled: no half-done switch.
        return await loop.run_in_executor(None, functools.partial(method, *args, **kwargs))

    async def enter(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.enter``, awaitable."""
        return await self._run(self._client.enter, *args, **kwargs)

    async def exit(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.exit``, awaitable."""
        return await self._run(self._client.exit, *args, **kwargs)

    async def exit_expired(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.exit_expired``, awaitable."""
        return await self._run(self._client.exit_expired, *args, **kwargs)

    async def arm(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.arm``, awaitable."""
        return await self._run(self._client.arm, *args, **kwargs)

    async def disarm(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.disarm``, awaitable."""
        return await self._run(self._client.disarm, *args, **kwargs)

    async def allowlist_enable(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.allowlist_enable``, awaitable."""
        return await self._run(self._client.allowlist_enable, *args, **kwargs)

    async def allowlist_disable(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.allowlist_disable``, awaitable."""
        return await self._run(self._client.allowlist_disable, *args, **kwargs)

    async def allowlist_add(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.allowlist_add``, awaitable."""
        return await self._run(self._client.allowlist_add, *args, **kwargs)

    async def allowlist_remove(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.allowlist_remove``, awaitable."""
        return await self._run(self._client.allowlist_remove, *args, **kwargs)

    async def allowlist_set(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.allowlist_set``, awaitable."""
        return await self._run(self._client.allowlist_set, *args, **kwargs)

    async def status(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.status``, awaitable."""
        return await self._run(self._client.status, *args, **kwargs)

    async def check(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.check``, awaitable."""
        return await self._run(self._client.check, *args, **kwargs)

    async def bypass_link(self, *args: Any, **kwargs: Any) -> Any:
        """``maint.Client.bypass_link``, awaitable."""
        return await self._run(self._client.bypass_link, *args, **kwargs)

    async def cleanup(self, **kwargs: Any) -> Any:
        """``maint.Client.cleanup``, awaitable."""
        return await self._run(self._client.cleanup, **kwargs)
