"""Settings: a typed, documented catalogue read from ENVWATCH_* environment variables.

Built by ``get_settings()`` when a command starts, never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENVWATCH_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path('var') / 'envwatch.db'}",
        description="SQLAlchemy URL: SQLite (default, a file under var/) or "
        "postgresql+psycopg://user@host/db",
    )
    gateway_host: str = Field(default="127.0.0.1", description="HJ 212 gateway listen address")
    gateway_port: int = Field(default=9212, description="HJ 212 gateway TCP port")
    cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag of the session cookie (None: when the request came over "
        "HTTPS, directly or per X-Forwarded-Proto)",
    )
    login_failures_per_account_and_address: int = Field(
        default=5, gt=0, description="Failed logins that shut an address out of an account [I]"
    )
    login_failures_per_address: int = Field(
        default=50, gt=0,
        description="Failed logins (any account) that shut an address out of every login [I]",
    )  # fmt: skip
    login_failures_per_account: int = Field(
        default=10, gt=0,
        description="Failed logins from untrusted addresses that lock an account for them [I]",
    )  # fmt: skip
    login_lockout_s: float = Field(
        default=900.0, gt=0, description="The first lockout; each next one doubles [I]"
    )
    login_longest_lockout_s: float = Field(
        default=86400.0, gt=0, description="The longest lockout [I]"
    )
    login_trusted_days: float = Field(
        default=30.0, ge=0,
        description="An address an account logged in from this recently is not locked by "
        "other addresses' failures [I]",
    )  # fmt: skip
    max_connections: int = Field(
        default=2000,
        description="Concurrent logger connections (at most what the descriptor limit "
        "leaves after descriptor_reserve)",
    )
    descriptor_reserve: int = Field(
        default=256, description="File descriptors kept for the web side, database and files"
    )
    max_connections_per_peer: int = Field(
        default=64,
        description="Concurrent connections from one address (loggers behind one NAT share it)",
    )
    frame_deadline_s: float = Field(
        default=60.0,
        description="A frame once begun must be complete within this [s] (slow senders closed)",
    )
    peer_rejected_bytes_per_min: int = Field(
        default=262144,
        description="Rejected input one address may send per minute before it is refused [bytes]",
    )
    peer_rejected_records_per_min: int = Field(
        default=120,
        description="Rejection records one address may cause per minute before it is refused",
    )
    peer_ban_s: float = Field(
        default=300.0, description="How long an address over its budget is refused [s]"
    )
    rejected_sample_bytes: int = Field(
        default=512, description="Bytes of a run of unframeable input kept in the archive"
    )
    overload_quiet_s: float = Field(
        default=60.0,
        description="An overload (refused connections, failing accepts) is logged when it "
        "starts and once this long after it stops [s]",
    )
    idle_timeout_s: float = Field(default=300.0, description="Close a silent connection after [s]")
    write_timeout_s: float = Field(
        default=30.0, description="Give up on a client that does not read its answers [s]"
    )
    send_buffer_bytes: int | None = Field(
        default=None,
        description="Kernel send buffer per connection [bytes] (None: the OS default); "
        "bounds what a logger that does not read its answers can hold",
    )
    registry_refresh_s: float = Field(
        default=60.0, description="How often the gateway re-reads the registered devices [s]"
    )
    device_rate_per_s: float = Field(default=50.0, description="Frames per second per device")
    device_rate_burst: int = Field(default=500, description="Frames a device may send at once")
    offline_after_s: float = Field(
        default=300.0,
        description="A point with no accepted frame for this long is offline [s] "
        "(default: 10 real-time intervals of 30 s)",
    )
    initialise_devices: bool = Field(
        default=False,
        description="Send the §6.7 initialisation commands (clock, intervals, uploads) "
        "to each logger on its first frame of a connection",
    )
    init_rtd_interval_s: int = Field(default=30, description="Real-time interval to set [s]")
    init_min_interval_min: int = Field(default=10, description="Minute-data interval to set [min]")
    electricity_codes_file: Path | None = Field(
        default=None,
        description="Factor codes of meters reporting over HJ 212 (a TOML file like "
        "envwatch/electricity/hj212_codes.toml; None: envwatch's defaults)",
    )
    rules_file: Path | None = Field(
        default=None,
        description="The rules' thresholds (a TOML file like envwatch/rules/rules.toml; "
        "None: envwatch's defaults)",
    )
    rules_warm_up_h: float = Field(
        default=24.0, gt=0,
        description="On a start or a partition's takeover the rules rebuild their state "
        "from each device's last hours of data [h]: a rule looking back further (copied_day's "
        "days, pinned's week) sees only these at first; longer costs a slower start",
    )  # fmt: skip
    archive_writer_process: bool = Field(
        default=True,
        description="Store frames from a child process, so storing and serving use two "
        "cores (off: a thread of the gateway process; always off for in-memory SQLite)",
    )
    commit_max_batch: int = Field(default=100, description="Frames per group commit at most")
    commit_max_wait_ms: float = Field(
        default=5.0, description="Longest wait for more frames before a commit [ms]"
    )
    alert_policy_file: Path | None = Field(
        default=None,
        description="Alert levels, deadlines and escalation (a TOML file like "
        "envwatch/alerts/policy.toml; None: envwatch's defaults)",
    )
    alert_workflow_file: Path | None = Field(
        default=None,
        description="The alert workflow's transition table (like envwatch/alerts/workflow.toml)",
    )
    rectification_policy_file: Path | None = Field(
        default=None,
        description="Rectification's notice period, escalation, vocabulary, evidence limits "
        "and complaint parameters (a TOML file like envwatch/rectification/policy.toml)",
    )
    rectification_workflow_file: Path | None = Field(
        default=None,
        description="The rectification workflow's transition table "
        "(like envwatch/rectification/workflow.toml)",
    )
    judgement_parameters_file: Path | None = Field(
        default=None,
        description="County judgement weights, listing rule and eco-compensation parameters "
        "(a TOML file like envwatch/judgement/parameters.toml)",
    )
    pdf_font: Path | None = Field(
        default=None,
        description="A .ttf/.ttc font with Chinese glyphs that PDF files embed (None: Debian's "
        "fonts-wqy-zenhei and the other paths in envwatch/reports/pdf.py)",
    )
    smtp_host: str | None = Field(default=None, description="Mail server for alert e-mail")
    smtp_port: int = Field(default=25, description="Mail server port")
    smtp_sender: str = Field(
        default="envwatch@localhost", description="The From address of alert e-mail"
    )
    notify_timeout_s: float = Field(default=10.0, description="Webhook and SMTP timeout [s]")
    notify_max_attempts: int = Field(
        default=8, description="Delivery attempts of a notification before it is failed"
    )
    nats_url: str | None = Field(
        default=None,
        description="Cluster mode: the NATS JetStream server(s), e.g. nats://10.0.0.5:4222 "
        "(None: the embedded single process, the default)",
    )
    cluster_partitions: int = Field(
        default=8, ge=1, le=1024,
        description="Partitions of the frames stream (by MN); fixed for a deployment",
    )  # fmt: skip
    cluster_stream: str = Field(default="ENVWATCH_FRAMES", description="JetStream stream name")
    cluster_dedup_window_s: float = Field(
        default=600.0, description="JetStream de-duplication window for resends [s]"
    )
    cluster_stream_max_age_h: float = Field(
        default=168.0, description="How long the stream keeps frames after they arrive [h]"
    )
    cluster_publish_timeout_s: float = Field(
        default=3.0, description="A gateway waits this long for JetStream's ack [s]"
    )
    cluster_lease_ttl_s: float = Field(
        default=10.0, description="A partition or the alert desk is taken over after [s]"
    )
    cluster_live_clock: bool = Field(
        default=True,
        description="Workers let the wall clock move the rules' data clock (silence shows "
        "even when a whole partition falls silent); off only to compare with a replay",
    )
    cluster_stop_grace_s: float = Field(
        default=10.0, description="A stopping role waits this long for its partitions' work [s]"
    )
    cluster_batch: int = Field(default=500, description="Frames a writer stores per transaction")
    metrics_port: int | None = Field(
        default=None,
        description="Cluster roles: serve /metrics, /livez and /readyz on this port (None: off)",
    )
    partitions_ahead_months: int = Field(
        default=3, ge=0,
        description="PostgreSQL: monthly partitions kept created ahead of the current month",
    )  # fmt: skip
    partitions_check_s: float = Field(
        default=3600.0, gt=0,
        description="PostgreSQL: the active desk checks the partitions this often [s]",
    )  # fmt: skip
    compact_check_s: float = Field(
        default=3600.0, gt=0,
        description="The active desk builds the value blocks of closed days this often [s]",
    )  # fmt: skip
    retain_archive_months: int | None = Field(
        default=None, gt=0,
        description="PostgreSQL: months of the raw archive kept attached; older months are "
        "detached for archive (None: keep all)",
    )  # fmt: skip
    retain_measurement_months: int | None = Field(
        default=None, gt=0,
        description="PostgreSQL: months of measurements kept attached (None: keep all)",
    )  # fmt: skip
    retain_hourly_months: int | None = Field(
        default=None, gt=0,
        description="PostgreSQL: months of hourly emissions kept attached (None: keep all)",
    )  # fmt: skip


def get_settings() -> Settings:
    return Settings()
