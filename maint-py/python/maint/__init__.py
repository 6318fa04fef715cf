"""maint: put services behind AWS Application Load Balancers into maintenance
mode (and back) via AWS WAF, from Python.

Everything here is the Rust extension ``maint._maint`` (thin bindings over the
``maint-core`` crate), re-exported::

    import maint

    client = maint.Client(region="eu-west-1")
    client.enter("shop-prod", allow=["203.0.113.0/24"], reason="Release 2.1")
    client.allowlist_disable("shop-prod")   # QA found a problem
    client.allowlist_enable("shop-prod")    # fixed: testers back in
    client.exit("shop-prod")
"""

import logging as _logging

from maint._maint import (
    DEFAULT_CONCURRENCY,
    Allowlist,
    AwsError,
    ChangeResult,
    CheckResponse,
    CheckResult,
    Client,
    ConflictError,
    ForeignWebAclError,
    InvalidInputError,
    Leftover,
    MaintError,
    NotInMaintenanceError,
    ProgressEvent,
    TargetNotFoundError,
    TargetStatus,
    TimeoutError,
    __version__,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "Allowlist",
    "AwsError",
    "ChangeResult",
    "CheckResponse",
    "CheckResult",
    "Client",
    "ConflictError",
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

# maint logs through the standard `logging` module under the "maint" logger
# (maint.backend.waf.calls, maint.progress, ...). As a library it adds only a
# NullHandler: nothing is printed unless the application configures logging.
_logging.getLogger("maint").addHandler(_logging.NullHandler())

from maint import aio  # noqa: E402 (maint.aio.Client: the same calls as coroutines)
