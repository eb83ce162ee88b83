"""What operators watch, as Prometheus metrics: the desk's figures in one place, recorded by the
adapters, the channel layer and the notice machinery, and served by each process (`/metrics` on
the web app, `METRICS_PORT` for the workers and the clock)."""

from prometheus_client import Counter, Gauge, Histogram, start_http_server

UPDATE_SECONDS = Histogram(
    "desk_update_seconds",
    "Time from an incoming message or tap to its last reply sent",
    ["channel", "step"],
    buckets=(0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BOT_API_CALLS = Counter(
    "desk_bot_api_calls_total",
    "Bot API calls by messenger, method and outcome (sent, retry_after, temporary, ...)",
    ["channel", "method", "outcome"],
)
NOTICE_DELIVERIES = Counter(
    "desk_notice_deliveries_total",
    "Notice deliveries recorded, by channel and the state they reached",
    ["channel", "state"],
)
LEASE_EXPIRIES = Counter(
    "desk_notice_lease_expiries_total",
    "Deliveries handed to the queue again because the job holding them stopped answering",
)
QUEUE_DEPTH = Gauge("desk_queue_depth", "Jobs waiting in an RQ queue", ["queue"])
BROADCAST_MESSAGES = Counter(
    "desk_broadcast_messages_total",
    "Broadcast messages answered, by channel and outcome",
    ["channel", "outcome"],
)
INBOUND_SMS = Counter(
    "desk_inbound_sms_total",
    "Inbound SMS handled, by what they were (lookup, dialog, keyword, rate_limited)",
    ["kind"],
)


def serve(port: int | None) -> None:
    """Serves this process's metrics on `port` (workers, clock); nothing when it is None."""
    if port is not None:
        start_http_server(port, addr="0.0.0.0")  # scraped from the cluster network
