"""sellerbridge's SP-API client: typed, rate-limited, retried, and silent about secrets.

Everything a caller needs is importable from here; the modules behind it are private to the
package. Start with :class:`SpApiClient`; :mod:`.errors` documents what a call can raise.
"""

from sellerbridge.channels.amazon.spapi.auth import Credentials, TokenCache
from sellerbridge.channels.amazon.spapi.client import (
    ApiResponse,
    Endpoint,
    RetryPolicy,
    SpApiClient,
)
from sellerbridge.channels.amazon.spapi.errors import (
    AmbiguousError,
    AuthError,
    AuthReason,
    ErrorDetail,
    RejectedError,
    RetryableError,
    SpApiError,
    ThrottledError,
    UnreachableError,
)
from sellerbridge.channels.amazon.spapi.models.sellers import MarketplaceParticipation
from sellerbridge.channels.amazon.spapi.ratelimit import (
    BucketStore,
    DatabaseBucketStore,
    MemoryBucketStore,
    RedisBucketStore,
)
from sellerbridge.channels.amazon.spapi.recorder import (
    CallRecord,
    CallRecorder,
    DatabaseCallRecorder,
)
from sellerbridge.channels.amazon.spapi.usage_plans import DEFAULT_PLANS, SUBMISSION_LIMITS

__all__ = [
    "DEFAULT_PLANS",
    "SUBMISSION_LIMITS",
    "AmbiguousError",
    "ApiResponse",
    "AuthError",
    "AuthReason",
    "BucketStore",
    "CallRecord",
    "CallRecorder",
    "Credentials",
    "DatabaseBucketStore",
    "DatabaseCallRecorder",
    "Endpoint",
    "ErrorDetail",
    "MarketplaceParticipation",
    "MemoryBucketStore",
    "RedisBucketStore",
    "RejectedError",
    "RetryPolicy",
    "RetryableError",
    "SpApiClient",
    "SpApiError",
    "ThrottledError",
    "TokenCache",
    "UnreachableError",
]
