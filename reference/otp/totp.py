"""RFC 6238 TOTP: TOTP = HOTP(K, T) with T = floor((time - T0) / X).

* X (time step, default 30 s) and T0 (start of counting, default 0 = Unix epoch) are
  system parameters (RFC 6238 §4.1).
* T = (Current Unix time - T0) / X "where the default floor function is used" (§4.2).
  A time before T0 gives a negative T, which the 8-byte unsigned counter of RFC 4226 §5.1
  cannot carry: we refuse it.  (The Java code of Appendix A truncates toward zero and
  would silently use T = 0 for the X-1 seconds before T0; we follow the normative text.)
* T must be allowed beyond 32 bits (§4.2, year 2038); we allow the whole 64-bit range.
* Time is an int of Unix seconds handed in by the caller: the engine never reads a clock
  itself, so every computation replays.  ``totp_now`` takes the clock as a parameter.
"""

from __future__ import annotations

from typing import Callable

from harness.errors import InputError
from reference.otp.hotp import COUNTER_MAX, check_int, hotp

DEFAULT_STEP = 30  # RFC 6238 §4.1
DEFAULT_T0 = 0  # RFC 6238 §4.1

Clock = Callable[[], int]
"""Returns the current Unix time in whole seconds."""


def time_step_counter(unix_time: int, *, step: int = DEFAULT_STEP, t0: int = DEFAULT_T0) -> int:
    """T of RFC 6238 §4.2 for ``unix_time`` (Unix seconds)."""
    check_int(unix_time, "time", -(2**63), 2**63 - 1, "Unix seconds")
    check_int(step, "step", 1, 2**63 - 1, "RFC 6238 §4.1: X is a positive number of seconds")
    check_int(t0, "t0", -(2**63), 2**63 - 1, "RFC 6238 §4.1: T0 is a Unix time")
    if unix_time < t0:
        raise InputError(
            f"time {unix_time} is before T0 {t0}: T = floor((time - T0) / X) would be negative "
            "(RFC 6238 §4.2) and the counter is unsigned (RFC 4226 §5.1)",
            where="time",
        )
    counter = (unix_time - t0) // step
    if counter > COUNTER_MAX:
        raise InputError(f"T = {counter} does not fit the 8-byte counter (RFC 4226 §5.1)", where="time")
    return counter


def totp(
    secret: bytes,
    unix_time: int,
    *,
    step: int = DEFAULT_STEP,
    t0: int = DEFAULT_T0,
    digits: int = 6,
    algorithm: str = "sha1",
) -> str:
    """The TOTP value (RFC 6238 §4.2) at ``unix_time``."""
    return hotp(secret, time_step_counter(unix_time, step=step, t0=t0), digits=digits, algorithm=algorithm)


def totp_now(secret: bytes, clock: Clock, **options: int | str) -> str:
    """TOTP at the time ``clock()`` answers (an injected clock, so tests replay)."""
    return totp(secret, clock(), **options)  # type: ignore[arg-type]
