"""Throughput and memory of the HJ 212 codec; prints one JSON object to stdout.

Run: ``.venv/bin/python bench/codec.py`` (about a minute) or with ``--quick``
(a couple of seconds, same JSON keys, figures not meaningful). See
``bench/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import itertools
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from envwatch.hj212 import (
    DecodedFrame,
    DecodeOptions,
    Decoder,
    Packet,
    crc16,
    decode_frame,
    encode_packet,
    interpret,
)
from envwatch.hj212.segment import CpGroup

TARGET_DECODE_FPS: Final = 50_000
"""Frames per second the gateway needs from one core (strict streaming, 2011 frame)."""
CHUNK: Final = 64 * 1024
"""Bytes per ``Decoder.feed`` call, as the gateway reads its sockets."""
MEMORY_FRAMES: Final = 10_000
MEMORY_STREAM_BYTES: Final = 10 * 1024 * 1024

STRICT: Final = DecodeOptions()
LENIENT: Final = DecodeOptions(lenient=True)

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Settings:
    runs: int
    """Timed runs per measurement; best and median are reported."""
    run_seconds: float
    """What one timed run should last; iteration counts are calibrated to it."""
    memory_frames: int
    memory_stream_bytes: int


FULL: Final = Settings(
    runs=5,
    run_seconds=0.5,
    memory_frames=MEMORY_FRAMES,
    memory_stream_bytes=MEMORY_STREAM_BYTES,
)
QUICK: Final = Settings(runs=2, run_seconds=0.01, memory_frames=500, memory_stream_bytes=256 * 1024)

# -- the frames ---------------------------------------------------------------

_HEADER: Final = {
    "qn": "20240515103000123",
    "st": "31",  # flue gas
    "pw": "123456",
    "mn": "3737150100A1B2C3D4E5F601",
    "flag": "5",  # HJ 212-2017, answer wanted
}


def _factor(code: str, **values: str) -> CpGroup:
    return tuple((f"{code}-{suffix}", value) for suffix, value in values.items())


def realtime_packet() -> Packet:
    """A 2011 real-time upload of a flue-gas stack: 10 factors, about 400 bytes framed."""
    cp: tuple[CpGroup, ...] = (
        (("DataTime", "20240515103000"),),
        _factor("a00000", Rtd="52.317", Flag="N"),  # flue gas flow [m³/s]
        _factor("a01011", Rtd="11.62", Flag="N"),  # velocity [m/s]
        _factor("a01012", Rtd="48.3", Flag="N"),  # temperature [°C]
        _factor("a01013", Rtd="-0.128", Flag="N"),  # pressure [kPa]
        _factor("a01014", Rtd="8.41", Flag="N"),  # humidity [%]
        _factor("a19001", Rtd="10.27", Flag="N"),  # O2 [%]
        _factor("a21026", Rtd="12.851", ZsRtd="15.203", Flag="N"),  # SO2 [mg/m³]
        _factor("a21002", Rtd="38.72", Flag="N"),  # NOx [mg/m³]
        _factor("a34013", Rtd="2.316", Flag="N"),  # dust [mg/m³]
        _factor("a21005", Rtd="0.842", Flag="N"),  # CO [mg/m³]
    )
    return Packet.from_groups("2011", cp=cp, **_HEADER)


def hourly_packet() -> Packet:
    """A 2061 hourly upload of the same stack: 7 factors with Cou/Min/Avg/Max/Flag."""
    rows = (
        ("a00000", "186542.1", "48.902", "51.817", "54.330"),  # flow [m³], [m³/s]
        ("a21026", "2.397", "10.214", "12.851", "16.020"),  # SO2 [kg], [mg/m³]
        ("a21002", "7.226", "33.180", "38.720", "45.904"),  # NOx
        ("a34013", "0.432", "1.902", "2.316", "3.117"),  # dust
        ("a21005", "0.157", "0.611", "0.842", "1.270"),  # CO
        ("a21001", "0.041", "0.122", "0.219", "0.388"),  # NH3
        ("a24088", "0.903", "3.771", "4.840", "6.215"),  # NMHC
    )
    cp: tuple[CpGroup, ...] = (
        (("DataTime", "20240515100000"),),
        *(_factor(code, Cou=c, Min=lo, Avg=avg, Max=hi, Flag="N") for code, c, lo, avg, hi in rows),
    )
    return Packet.from_groups("2061", cp=cp, **_HEADER)


# -- timing -------------------------------------------------------------------

Prepare = Callable[[int], Callable[[], int]]
"""Given an item count, set up and return a timed run that handles that many items
and returns how many it handled."""


def _time_once(run: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    done = run()
    return time.perf_counter() - start, done


@dataclass(slots=True)
class Case:
    """One measurement: calibrated once, then timed ``settings.runs`` times."""

    key: tuple[str, ...]
    prepare: Prepare
    probe: int = 200
    count: int = 0
    run: Callable[[], int] | None = None
    times: list[float] = field(default_factory=list)

    def calibrate(self, settings: Settings) -> None:
        """Pick the item count so that one run lasts about ``settings.run_seconds``."""
        count = self.probe
        while True:
            elapsed, _ = _time_once(self.prepare(count))
            if elapsed >= settings.run_seconds / 4 or elapsed >= 0.05:
                break
            count *= 4
        self.count = max(1, round(count * settings.run_seconds / max(elapsed, 1e-9)))
        self.run = self.prepare(self.count)
        self.run()  # warm-up

    def time_once(self) -> None:
        assert self.run is not None
        elapsed, done = _time_once(self.run)
        if done != self.count:
            raise RuntimeError(f"{self.key}: a run handled {done} items, expected {self.count}")
        self.times.append(elapsed)

    def figures(self) -> JsonObject:
        best, median = min(self.times), statistics.median(self.times)
        return {
            "iterations": self.count,
            "runs": len(self.times),
            "best_fps": round(self.count / best, 1),
            "median_fps": round(self.count / median, 1),
            "best_us_per_frame": round(best / self.count * 1e6, 3),
            "median_us_per_frame": round(median / self.count * 1e6, 3),
            "best_run_seconds": round(best, 4),
        }


def measure(cases: list[Case], settings: Settings) -> JsonObject:
    """Items per second of every case, best and median of ``settings.runs`` runs.

    The runs are interleaved (run 1 of every case, then run 2, ...) so that a
    burst of noise from the host spreads over all cases instead of one.
    Returns the figures nested by each case's key.
    """
    for case in cases:
        case.calibrate(settings)
    for _ in range(settings.runs):
        for case in cases:
            case.time_once()
    out: JsonObject = {}
    for case in cases:
        node = out
        for part in case.key[:-1]:
            node = node.setdefault(part, {})
        node[case.key[-1]] = case.figures()
    return out


def loop(operation: Callable[[], object]) -> Prepare:
    """Call ``operation`` n times per run."""

    def prepare(count: int) -> Callable[[], int]:
        def run() -> int:
            for _ in itertools.repeat(None, count):
                operation()
            return count

        return run

    return prepare


def chunked(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def check_stream(frame: bytes, count: int, options: DecodeOptions) -> None:
    """Make sure the stream decodes to ``count`` good frames (untimed)."""
    decoder = Decoder(options)
    good = bad = 0
    for chunk in chunked(frame * count):
        for item in decoder.feed(chunk):
            if isinstance(item, DecodedFrame):
                good += 1
            else:
                bad += 1
    bad += len(decoder.close())
    if good != count or bad:
        raise RuntimeError(f"stream gave {good} frames and {bad} errors, expected {count} frames")


def streaming(frame: bytes, options: DecodeOptions) -> Prepare:
    """One Decoder per run, fed n concatenated frames in 64 KiB chunks."""

    def prepare(count: int) -> Callable[[], int]:
        chunks = chunked(frame * count)

        def run() -> int:
            decoder = Decoder(options)
            feed = decoder.feed
            done = 0
            for chunk in chunks:
                done += len(feed(chunk))
            return done + len(decoder.close())

        return run

    return prepare


# -- memory -------------------------------------------------------------------


def peak_stream_memory(frame: bytes, count: int, options: DecodeOptions) -> JsonObject:
    """Peak traced allocation while one Decoder reads ``count`` frames in 64 KiB chunks.

    The input is built before tracing starts; each chunk is sliced inside the
    traced loop, as a socket read would allocate it. Only counts are kept.
    """
    data = frame * count
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        decoder = Decoder(options)
        good = bad = 0
        for offset in range(0, len(data), CHUNK):
            for item in decoder.feed(data[offset : offset + CHUNK]):
                if isinstance(item, DecodedFrame):
                    good += 1
                else:
                    bad += 1
        bad += len(decoder.close())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if good != count or bad:
        raise RuntimeError(f"memory pass gave {good} frames and {bad} errors")
    return {
        "frames": count,
        "stream_bytes": len(data),
        "chunk_bytes": CHUNK,
        "peak_bytes": peak,
        "peak_kib": round(peak / 1024, 1),
        "peak_mib": round(peak / 1024 / 1024, 3),
    }


# -- the report ---------------------------------------------------------------


def frame_info(packet: Packet, frame: bytes) -> JsonObject:
    segment_bytes = len(frame) - 12  # "##" + 4 digits, 4 CRC digits + CR LF
    return {
        "cn": packet.cn,
        "frame_bytes": len(frame),
        "segment_bytes": segment_bytes,
        "factors": len(packet.factors()),
        "cp_pairs": sum(len(group) for group in packet.cp),
    }


def verify(packet: Packet, frame: bytes) -> None:
    """The frame must round-trip and decode without warnings in both modes."""
    for options in (STRICT, LENIENT):
        decoded = decode_frame(frame, options)
        if decoded.packet != packet or decoded.warnings:
            raise RuntimeError(f"CN={packet.cn} frame does not decode cleanly: {decoded.warnings}")
    interpret(packet)


def run(settings: Settings, *, quick: bool) -> JsonObject:
    packets = {"rt_2011": realtime_packet(), "hourly_2061": hourly_packet()}
    frames = {name: encode_packet(packet) for name, packet in packets.items()}
    for name, packet in packets.items():
        verify(packet, frames[name])
        check_stream(frames[name], 1000, STRICT)
        check_stream(frames[name], 1000, LENIENT)
    modes = {"strict": STRICT, "lenient": LENIENT}

    cases: list[Case] = []
    for name, frame in frames.items():
        packet = packets[name]
        for mode, options in modes.items():
            cases.append(
                Case(("decode_frame", name, mode), loop(partial(decode_frame, frame, options)))
            )
            cases.append(Case(("decode_stream", name, mode), streaming(frame, options), probe=500))
        cases.append(Case(("encode", name), loop(partial(encode_packet, packet))))
        cases.append(Case(("interpret", name), loop(partial(interpret, packet))))
    segment = frames["rt_2011"][6:-6]
    cases.append(Case(("crc16",), loop(partial(crc16, segment)), probe=2000))
    figures = measure(cases, settings)
    crc = figures["crc16"]
    crc_report = {
        "segment_bytes": len(segment),
        "iterations": crc["iterations"],
        "runs": crc["runs"],
        "best_us_per_op": crc["best_us_per_frame"],
        "median_us_per_op": crc["median_us_per_frame"],
    }

    memory = {
        "stream_frames": peak_stream_memory(frames["rt_2011"], settings.memory_frames, STRICT),
        "stream_10mb": peak_stream_memory(
            frames["rt_2011"],
            -(-settings.memory_stream_bytes // len(frames["rt_2011"])),
            STRICT,
        ),
    }

    best = figures["decode_stream"]["rt_2011"]["strict"]["best_fps"]
    return {
        "benchmark": "envwatch.hj212 codec",
        "quick": quick,
        "envwatch_version": importlib.metadata.version("envwatch"),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "runs": settings.runs,
        "target_run_seconds": settings.run_seconds,
        "chunk_bytes": CHUNK,
        "frames": {name: frame_info(packets[name], frame) for name, frame in frames.items()},
        "decode_frame": figures["decode_frame"],
        "decode_stream": figures["decode_stream"],
        "encode": figures["encode"],
        "interpret": figures["interpret"],
        "crc16": crc_report,
        "memory": memory,
        "target_decode_fps": TARGET_DECODE_FPS,
        "target_measure": "decode_stream.rt_2011.strict.best_fps",
        "meets_target": best >= TARGET_DECODE_FPS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a very short run (smoke test)")
    args = parser.parse_args(argv)
    quick: bool = args.quick
    report = run(QUICK if quick else FULL, quick=quick)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
