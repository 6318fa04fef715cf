"""Type stubs for ``maint.aio`` (checked with ``python -m mypy.stubtest``)."""

import datetime
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union

from maint._maint import (
    Allowlist,
    ChangeResult,
    CheckResult,
    Leftover,
    ProgressEvent,
    TargetStatus,
)
from maint._maint import Client as _SyncClient

_Entries = Union[Allowlist, str, Iterable[str]]
_Path = Union[str, os.PathLike[str]]

__all__ = ["Client"]

class Client:
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    @property
    def sync(self) -> _SyncClient: ...
    async def enter(
        self,
        *targets: str,
        allow: _Entries | None = None,
        reason: str | None = None,
        until: datetime.datetime | None = None,
        page: _Path | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        inject: bool = False,
        bypass: bool | None = None,
        bypass_secret: str | None = None,
        rotate_bypass: bool = False,
        client_ip: Mapping[str, str] | None = None,
        hosts: list[str] | None = None,
        paths: list[str] | None = None,
        open_paths: list[str] | None = None,
        wait: bool = False,
        wait_url: str | None = None,
        wait_timeout: float | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def exit(
        self,
        *targets: str,
        wait: bool = False,
        wait_url: str | None = None,
        wait_timeout: float | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def exit_expired(
        self,
        *targets: str,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def arm(
        self,
        *targets: str,
        allow: _Entries | None = None,
        reason: str | None = None,
        until: datetime.datetime | None = None,
        page: _Path | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        bypass: bool | None = None,
        bypass_secret: str | None = None,
        rotate_bypass: bool = False,
        client_ip: Mapping[str, str] | None = None,
        hosts: list[str] | None = None,
        paths: list[str] | None = None,
        open_paths: list[str] | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def disarm(
        self,
        *targets: str,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def allowlist_enable(
        self,
        *targets: str,
        wait: bool = False,
        wait_url: str | None = None,
        wait_timeout: float | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def allowlist_disable(
        self,
        *targets: str,
        keep_bypass: bool = False,
        wait: bool = False,
        wait_url: str | None = None,
        wait_timeout: float | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def allowlist_add(
        self,
        target: str,
        entries: _Entries,
        *,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def allowlist_remove(
        self,
        target: str,
        entries: _Entries,
        *,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def allowlist_set(
        self,
        target: str,
        entries: _Entries,
        *,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    async def status(self, *targets: str) -> list[TargetStatus]: ...
    async def check(
        self,
        *targets: str,
        ip: str,
        headers: list[str] | None = None,
        path: str | None = None,
        host: str | None = None,
        url: str | None = None,
    ) -> list[CheckResult]: ...
    async def bypass_link(self, target: str, *, base_url: str | None = None) -> str: ...
    async def cleanup(self, *, dry_run: bool = False) -> list[Leftover]: ...
