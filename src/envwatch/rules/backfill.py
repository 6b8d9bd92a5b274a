"""Back-filled data (补传), pure: which uploads arrive late, and a device's
episode of them.

A logger back from an outage re-sends its history with old data times and
current QNs, often newest first and beside its live data. An upload is
*late* when it arrives more than a while after its period ended (an hour's
data are due when the hour is over). Late uploads that come out of order
for their device (older than data of their kind already judged) are held
and judged, in data-time order and apart from the live state, when the
back-fill is over; late uploads in order (a clock that runs behind, or
history re-sent oldest first) go to the rules at once. Either way the
episode is reported once, with its span.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from envwatch.rules.model import Upload


def period_end(upload: Upload, period_minutes: Mapping[str, float]) -> datetime:
    """When ``upload``'s data were complete: its data time plus its period
    (an hour for 2061, none for real-time data and unknown commands)."""
    return upload.data_time + timedelta(minutes=period_minutes.get(upload.cn, 0.0))


def lateness(upload: Upload, arrival: datetime, period_minutes: Mapping[str, float]) -> timedelta:
    """How long after its period ended the upload arrived."""
    return arrival - period_end(upload, period_minutes)


@dataclass
class BackfillEpisode:
    """A device's run of late uploads, from the first to a quiet spell."""

    mn: str
    first_arrival: datetime
    last_arrival: datetime
    first_data: datetime
    last_data_end: datetime
    uploads: int = 0
    held: list[Upload] = field(default_factory=list)
    """Out of order: waiting to be judged in data-time order."""
    judged_held: int = 0
    commands: set[str] = field(default_factory=set)
    frames: list[int] = field(default_factory=list)
    """A few of its frames, for the evidence."""
    findings: int = 0
    """What judging its held uploads found."""

    @classmethod
    def start(cls, upload: Upload, arrival: datetime, end: datetime) -> BackfillEpisode:
        return cls(upload.mn, arrival, arrival, upload.data_time, end)

    def add(self, upload: Upload, arrival: datetime, end: datetime, *, hold: bool) -> None:
        self.uploads += 1
        self.last_arrival = max(self.last_arrival, arrival)
        self.first_data = min(self.first_data, upload.data_time)
        self.last_data_end = max(self.last_data_end, end)
        self.commands.add(upload.cn)
        if upload.frame_id is not None and len(self.frames) < FRAMES_KEPT:
            self.frames.append(upload.frame_id)
        if hold:
            self.held.append(upload)

    def take_held(self, period_minutes: Mapping[str, float]) -> list[Upload]:
        """The held uploads in the order a live logger would have sent them: by
        the end of their period (minute data of an hour before the hour), then
        data time."""
        held = sorted(self.held, key=lambda u: (period_end(u, period_minutes), u.data_time, u.cn))
        self.judged_held += len(held)
        self.held = []
        return held

    def over(self, clock: datetime, quiet: timedelta, longest: timedelta) -> bool:
        """Quiet for ``quiet`` by the arrival clock, or open for ``longest``."""
        return clock - self.last_arrival >= quiet or clock - self.first_arrival >= longest


FRAMES_KEPT = 20
