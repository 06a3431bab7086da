"""Impairments in tc's words: which qdisc, its parameters, and how they read to a person.

Pure. An end's impairment (``Link.impairment_of``) becomes one root qdisc on that interface:
``netem`` when it delays, loses, corrupts or duplicates (a rate rides inside netem), ``tbf``
when it only limits the rate — a token bucket is in every kernel netlab meets, netem is not.
"""

from __future__ import annotations

from netlab.core.document import Impairment

DEFAULT_MTU = 1500  # a veth's MTU when the design names none
ETHERNET_HEADER = 14
# tbf's queue: how long a packet may wait for tokens before it is dropped.
TBF_LATENCY_MS = 100
# tbf's bucket holds 10 ms of the rate (the kernel's timer is at most that coarse), and never
# less than two full frames, or a full-size frame could never leave.
TBF_BURST_MS = 10

NETEM_FIELDS: tuple[str, ...] = (
    "delay_ms",
    "jitter_ms",
    "loss_percent",
    "corrupt_percent",
    "duplicate_percent",
)


def qdisc_kind(impairment: Impairment) -> str:
    """``netem``, or ``tbf`` for an impairment that only limits the rate."""
    if any(getattr(impairment, field) is not None for field in NETEM_FIELDS):
        return "netem"
    return "tbf"


def tbf_burst(rate_kbit: float, mtu: int) -> int:
    """tbf's bucket in bytes: ``TBF_BURST_MS`` of the rate, at least two frames."""
    return max(int(rate_kbit * 1000 / 8 * TBF_BURST_MS / 1000), 2 * (mtu + ETHERNET_HEADER))


# The impairment fields that are percentages, and netem's word for each.
PERCENTAGES = (
    ("loss_percent", "loss"),
    ("corrupt_percent", "corrupt"),
    ("duplicate_percent", "duplicate"),
)


def number(value: float) -> str:
    """A number as tc reads it and a person writes it: ``30``, ``0.5``, never ``1e+07``."""
    as_float = float(value)
    return str(int(as_float)) if as_float.is_integer() else repr(as_float)


def netem_words(impairment: Impairment) -> tuple[str, ...]:
    """``netem delay 30ms 5ms loss 1% ...`` as tc's arguments."""
    words = ["netem"]
    if impairment.delay_ms is not None:
        words += ["delay", f"{number(impairment.delay_ms)}ms"]
        if impairment.jitter_ms is not None:
            words.append(f"{number(impairment.jitter_ms)}ms")
    for field, word in PERCENTAGES:
        value = getattr(impairment, field)
        if value is not None:
            words += [word, f"{number(value)}%"]
    if impairment.rate_kbit is not None:
        words += ["rate", f"{number(impairment.rate_kbit)}kbit"]
    return tuple(words)


def tbf_words(rate_kbit: float, burst: int, latency_ms: int) -> tuple[str, ...]:
    """``tbf rate 10000kbit burst 12500 latency 100ms`` as tc's arguments."""
    return (
        "tbf",
        "rate",
        f"{number(rate_kbit)}kbit",
        "burst",
        str(burst),
        "latency",
        f"{latency_ms}ms",
    )


def rate_text(rate_kbit: float) -> str:
    """``10 Mbit/s``, ``512 kbit/s``, ``1.5 Gbit/s``."""
    for unit, size in (("Gbit/s", 1_000_000), ("Mbit/s", 1000)):
        if rate_kbit >= size:
            return f"{number(round(rate_kbit / size, 2))} {unit}"
    return f"{number(rate_kbit)} kbit/s"


def impairment_summary(impairment: Impairment) -> str:
    """The impairment as the canvas labels it: ``30 ms ± 5 ms · 1% loss · 10 Mbit/s``."""
    parts = []
    if impairment.delay_ms is not None:
        delay = f"{number(impairment.delay_ms)} ms"
        if impairment.jitter_ms:
            delay += f" ± {number(impairment.jitter_ms)} ms"
        parts.append(delay)
    for field, word in PERCENTAGES:
        value = getattr(impairment, field)
        if value is not None:
            parts.append(f"{number(value)}% {word}")
    if impairment.rate_kbit is not None:
        parts.append(rate_text(impairment.rate_kbit))
    return " · ".join(parts)
