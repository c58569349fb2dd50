"""The pyinstrument profile of the runtime path, summarised by category (service code, runtime, driver...)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def summarise_profile(profiler: Any, elapsed: float) -> dict[str, Any]:
    """Self time by category and the heaviest frames, from pyinstrument's call tree."""
    session = profiler.last_session
    root = session.root_frame()
    self_time: dict[tuple[str, str], float] = defaultdict(float)
    inclusive: dict[tuple[str, str], float] = defaultdict(float)

    def walk(frame: Any, seen: frozenset[tuple[str, str]]) -> None:
        if frame.is_synthetic:  # "[self]" leaves: already in their parent's total_self_time
            return
        key = (frame.function or "?", frame.file_path_short or frame.file_path or "?")
        self_time[key] += frame.total_self_time
        if key not in seen:  # count recursion once
            inclusive[key] += frame.time
        for child in frame.children:
            walk(child, seen | {key})

    if root is not None:
        walk(root, frozenset())
    categories: dict[str, float] = defaultdict(float)
    for (function, path), seconds in self_time.items():
        categories[categorise(function, path)] += seconds
    total = sum(categories.values()) or 1.0
    top_self = sorted(self_time.items(), key=lambda kv: kv[1], reverse=True)[:15]
    heavy = [
        (k, v)
        for k, v in sorted(inclusive.items(), key=lambda kv: kv[1], reverse=True)
        if any(m in k[1] for m in ("siaga_runtime", "pymongo", "siaga_schemas", "aiokafka", "bench"))
    ][:15]
    return {
        "sampled_s": round(session.duration, 3),
        "measured_path_s": round(elapsed, 3),
        "self_time_by_category": {
            k: {"seconds": round(v, 3), "share": round(v / total, 3)}
            for k, v in sorted(categories.items(), key=lambda kv: kv[1], reverse=True)
        },
        "top_self_frames": [{"function": f, "file": p, "seconds": round(s, 3)} for (f, p), s in top_self],
        "top_inclusive_frames": [{"function": f, "file": p, "seconds": round(s, 3)} for (f, p), s in heavy],
    }


def categorise_was_other(frame: dict[str, Any]) -> bool:
    """Built-in poll frames were filed under "other" by the first version of ``categorise``."""
    return frame["file"] == "<built-in>" and "poll" in frame["function"]


def recategorise(profile: dict[str, Any]) -> None:
    """Re-file the top self-time frames of a saved profile under the current categories."""
    cats = profile.get("self_time_by_category")
    if not cats:
        return
    secs = {k: v["seconds"] for k, v in cats.items()}
    for f in profile.get("top_self_frames", []):
        new = categorise(f["function"], f["file"])
        if new != "other" and categorise_was_other(f) and secs.get("other", 0) >= f["seconds"]:
            secs["other"] -= f["seconds"]
            secs[new] = secs.get(new, 0) + f["seconds"]
    total = sum(secs.values()) or 1.0
    profile["self_time_by_category"] = {
        k: {"seconds": round(v, 3), "share": round(v / total, 3)}
        for k, v in sorted(secs.items(), key=lambda kv: kv[1], reverse=True)
    }


def categorise(function: str, path: str) -> str:
    p = path.replace("\\", "/")
    if "epoll" in function or function in ("select.select", "poll.poll", "kqueue.control"):
        return "idle: event loop waiting on sockets (server round trips, fetch waits)"
    if function in ("select", "poll", "epoll", "_run_once") and ("selectors" in p or "asyncio" in p):
        return "idle: event loop waiting on sockets (server round trips, fetch waits)"
    if "[await]" in function or "[idle]" in function or ("[self]" in function and "selectors" in p):
        return "idle: event loop waiting on sockets (server round trips, fetch waits)"
    if "pymongo" in p or "bson" in p:
        return "MongoDB driver (BSON encode/decode, wire protocol)"
    if "pydantic" in p or "siaga_schemas" in p or "json" in p:
        return "decode/validate/encode (json, pydantic, schemas)"
    if "aiokafka" in p or "kafka" in p:
        return "Kafka client (aiokafka)"
    if "faststream" in p or "fast_depends" in p:
        return "FastStream"
    if "siaga_runtime" in p:
        return "runtime (store, pipeline, relay)"
    if "prometheus" in p:
        return "metrics"
    if "logging" in p or "pythonjsonlogger" in p:
        return "logging"
    if "bench/" in p:
        return "benchmark harness (reducer, wrappers)"
    if "asyncio" in p or "selectors" in p:
        return "asyncio machinery"
    return "other"
