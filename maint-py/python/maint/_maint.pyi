"""Type stubs for the Rust extension module ``maint._maint`` (re-exported by
``maint``). Checked against the built module with ``python -m mypy.stubtest``.
"""

import builtins
import datetime
import ipaddress
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Literal, Union, final

__all__ = [
    "Allowlist",
    "AwsError",
    "ChangeResult",
    "CheckResponse",
    "CheckResult",
    "Client",
    "ConflictError",
    "DEFAULT_CONCURRENCY",
    "ForeignWebAclError",
    "InvalidInputError",
    "Leftover",
    "MaintError",
    "NotInMaintenanceError",
    "ProgressEvent",
    "TargetNotFoundError",
    "TargetStatus",
    "TimeoutError",
    "__version__",
]

__version__: Final[str]
DEFAULT_CONCURRENCY: Final[int]

_Entries = Union["Allowlist", str, Iterable[str]]
_Path = Union[str, os.PathLike[str]]

@final
class Allowlist:
    """A validated IP allowlist: addresses and CIDRs, IPv4 and IPv6, folded."""

    def __new__(cls, entries: _Entries | None = None) -> Allowlist: ...
    @staticmethod
    def from_file(path: _Path) -> Allowlist: ...
    @property
    def ipv4(self) -> list[str]: ...
    @property
    def ipv6(self) -> list[str]: ...
    def to_dict(self) -> dict[str, list[str]]: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...
    def __contains__(
        self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address, /
    ) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ChangeResult:
    """One target's result of enter, exit, arm, disarm or an allowlist change."""

    @property
    def target(self) -> str: ...
    @property
    def service(self) -> str | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def load_balancer_arn(self) -> str | None: ...
    @property
    def resource_kind(self) -> str | None: ...
    @property
    def result(self) -> Literal["ok", "error"]: ...
    @property
    def ok(self) -> bool: ...
    @property
    def changed(self) -> bool: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def changes(self) -> list[str]: ...
    @property
    def details(self) -> list[dict[str, Any]]: ...
    @property
    def error(self) -> MaintError | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class TargetStatus:
    """One target's state, as ``maint status --json`` reports it."""

    @property
    def target(self) -> str: ...
    @property
    def service(self) -> str | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def load_balancer_arn(self) -> str | None: ...
    @property
    def resource_kind(self) -> str | None: ...
    @property
    def state(
        self,
    ) -> Literal["normal", "maintenance", "foreign", "armed", "reverted", "error"]: ...
    @property
    def ok(self) -> bool: ...
    @property
    def window(self) -> str | None: ...
    @property
    def web_acl_arn(self) -> str | None: ...
    @property
    def web_acl_name(self) -> str | None: ...
    @property
    def injected(self) -> bool: ...
    @property
    def armed_since(self) -> datetime.datetime | None: ...
    @property
    def allowlist_enabled(self) -> bool | None: ...
    @property
    def allowlist(self) -> list[str]: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def since(self) -> datetime.datetime | None: ...
    @property
    def until(self) -> datetime.datetime | None: ...
    @property
    def response_status(self) -> int | None: ...
    @property
    def overdue(self) -> bool: ...
    @property
    def bypass(self) -> Literal["enabled", "disabled"] | None: ...
    @property
    def client_ip_from(self) -> str | None: ...
    @property
    def hosts(self) -> list[str]: ...
    @property
    def paths(self) -> list[str]: ...
    @property
    def open_paths(self) -> list[str]: ...
    @property
    def now_under(self) -> str | None: ...
    @property
    def deployment(self) -> str | None: ...
    @property
    def leftovers(self) -> list[str]: ...
    @property
    def sharing(self) -> list[dict[str, Any]]: ...
    @property
    def error(self) -> MaintError | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class CheckResponse:
    """The response AWS WAF sends instead of passing a request on."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> list[tuple[str, str]]: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def body(self) -> str | None: ...

@final
class CheckResult:
    """What a request gets from one target (``Client.check``)."""

    @property
    def target(self) -> str: ...
    @property
    def service(self) -> str | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def load_balancer_arn(self) -> str | None: ...
    @property
    def resource_kind(self) -> str | None: ...
    @property
    def web_acl(self) -> str | None: ...
    @property
    def verdict(self) -> Literal["let_through", "maintenance", "bypass_link"] | None: ...
    @property
    def reasons(self) -> list[str]: ...
    @property
    def why(self) -> list[dict[str, Any]]: ...
    @property
    def response(self) -> CheckResponse | None: ...
    @property
    def ok(self) -> bool: ...
    @property
    def error(self) -> MaintError | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class ProgressEvent:
    """One progress event of a long call, as ``on_progress`` receives it."""

    @property
    def kind(self) -> Literal["started", "target_done", "waiting", "retrying"]: ...
    @property
    def message(self) -> str: ...
    @property
    def index(self) -> int | None: ...
    @property
    def total(self) -> int | None: ...
    @property
    def target(self) -> str | None: ...
    @property
    def ok(self) -> bool | None: ...
    @property
    def changed(self) -> bool | None: ...
    @property
    def aws_error_code(self) -> str | None: ...

@final
class Leftover:
    """A resource of maint's that no load balancer uses any more, with its region."""

    @property
    def region(self) -> str | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def kind(self) -> Literal["web-acl", "ip-set"]: ...
    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...
    def to_dict(self) -> dict[str, str | None]: ...

@final
class Client:
    """Puts load balancers into maintenance mode and back, through AWS WAF.

    Targets are load balancer names, ARNs, or service names from the config
    file (a service expands to its load balancers). Each call returns one
    result per load balancer, in the order given; with ``raise_on_error``
    (the default) the first failure is raised after every target ran, with
    all results in ``.results``.
    """

    def __new__(
        cls,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        config: _Path | None = None,
        concurrency: int | None = None,
        raise_on_error: bool = True,
        notify: bool = True,
    ) -> Client: ...
    @property
    def region(self) -> str | None: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def endpoint_url(self) -> str | None: ...
    @property
    def config(self) -> str | None: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def raise_on_error(self) -> bool: ...
    @property
    def services(self) -> list[str]: ...
    def enter(
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
    def exit(
        self,
        *targets: str,
        wait: bool = False,
        wait_url: str | None = None,
        wait_timeout: float | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def exit_expired(
        self,
        *targets: str,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def arm(
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
    def disarm(
        self,
        *targets: str,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def allowlist_enable(
        self,
        *targets: str,
        wait: bool = False,
        wait_url: str | None = None,
        wait_timeout: float | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def allowlist_disable(
        self,
        *targets: str,
        keep_bypass: bool = False,
        wait: bool = False,
        wait_url: str | None = None,
        wait_timeout: float | None = None,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def allowlist_add(
        self,
        target: str,
        entries: _Entries,
        *,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def allowlist_remove(
        self,
        target: str,
        entries: _Entries,
        *,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def allowlist_set(
        self,
        target: str,
        entries: _Entries,
        *,
        on_progress: Callable[[ProgressEvent], object] | None = None,
        dry_run: bool = False,
    ) -> list[ChangeResult]: ...
    def status(self, *targets: str) -> list[TargetStatus]: ...
    def check(
        self,
        *targets: str,
        ip: str,
        headers: list[str] | None = None,
        path: str | None = None,
        host: str | None = None,
        url: str | None = None,
    ) -> list[CheckResult]: ...
    def bypass_link(self, target: str, *, base_url: str | None = None) -> str: ...
    def cleanup(self, *, dry_run: bool = False) -> list[Leftover]: ...

class MaintError(Exception):
    """Base class of every error maint raises."""

    kind: str
    code: str | None
    results: list[ChangeResult] | list[TargetStatus] | list[Leftover] | None

class InvalidInputError(MaintError, ValueError):
    entry: str | None
    line: int | None
    file: str | None
    problems: list[str] | None

class TargetNotFoundError(MaintError, LookupError):
    target: str | None

class ForeignWebAclError(MaintError):
    load_balancer_arn: str | None
    web_acl_arn: str | None
    web_acl_name: str | None

class ConflictError(MaintError):
    resource: str | None

class NotInMaintenanceError(ConflictError):
    load_balancer_arn: str | None

class AwsError(MaintError):
    operation: str | None
    request_id: str | None

class TimeoutError(MaintError, builtins.TimeoutError):
    operation: str | None
    request_id: str | None
