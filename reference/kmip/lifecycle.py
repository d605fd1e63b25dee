"""Object states and the transitions KMIP permits, as an explicit table.

KMIP 1.4 §3.22 (= 2.1 §4.57) lists ten transitions and ends "Only the transitions
described above are permitted."  The table below is that list, numbered as in the spec;
any (state, event) pair not in it is refused.  Transition 1 (creation) is
:func:`initial_state`; the date-driven halves of transitions 4 and 6 ("the Activation /
Deactivation Date is reached") are :func:`advance_by_dates`, which the server applies
whenever it reads an object, so a clock-injected engine sees them deterministically.
"""

from __future__ import annotations

from enum import Enum

from reference.kmip.failures import Failure, KmipFailure
from reference.kmip.vocab import State


class Event(Enum):
    ACTIVATE = "Activate"
    REVOKE_COMPROMISE = "Revoke (Key Compromise / CA Compromise)"
    REVOKE_OTHER = "Revoke (other reason)"
    DESTROY = "Destroy"
    ACTIVATION_DATE_REACHED = "Activation Date reached"
    DEACTIVATION_DATE_REACHED = "Deactivation Date reached"


PRE_ACTIVE, ACTIVE, DEACTIVATED = State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED
COMPROMISED, DESTROYED, DESTROYED_COMPROMISED = State.COMPROMISED, State.DESTROYED, State.DESTROYED_COMPROMISED

# (state, event) -> new state; the comment is the transition's number in §3.22.
TRANSITIONS: dict[tuple[int, Event], int] = {
    (PRE_ACTIVE, Event.DESTROY): DESTROYED,  # 2
    (PRE_ACTIVE, Event.REVOKE_COMPROMISE): COMPROMISED,  # 3
    (PRE_ACTIVE, Event.ACTIVATE): ACTIVE,  # 4 (Activate operation)
    (PRE_ACTIVE, Event.ACTIVATION_DATE_REACHED): ACTIVE,  # 4 (date reached / modified)
    (ACTIVE, Event.REVOKE_COMPROMISE): COMPROMISED,  # 5
    (ACTIVE, Event.REVOKE_OTHER): DEACTIVATED,  # 6 (Revoke, other reason)
    (ACTIVE, Event.DEACTIVATION_DATE_REACHED): DEACTIVATED,  # 6 (date reached / modified)
    (DEACTIVATED, Event.DESTROY): DESTROYED,  # 7
    (DEACTIVATED, Event.REVOKE_COMPROMISE): COMPROMISED,  # 8
    (COMPROMISED, Event.DESTROY): DESTROYED_COMPROMISED,  # 9
    (DESTROYED, Event.REVOKE_COMPROMISE): DESTROYED_COMPROMISED,  # 10
}

DESTROYED_STATES = frozenset({DESTROYED, DESTROYED_COMPROMISED})
SPEC = "KMIP 1.4 §3.22 (2.1 §4.57)"


def initial_state(activation_date: int | None, now: int) -> int:
    """Transition 1: Pre-Active, or Active at once when the Activation Date has passed."""
    if activation_date is not None and activation_date <= now:
        return ACTIVE
    return PRE_ACTIVE


def transition(state: int, event: Event) -> int:
    """The state after ``event``; KmipFailure when §3.22 does not permit it."""
    new = TRANSITIONS.get((state, event))
    if new is not None:
        return new
    if event is Event.DESTROY and state in DESTROYED_STATES:
        raise KmipFailure(Failure.ALREADY_DESTROYED, "object has already been destroyed")
    raise KmipFailure(
        Failure.WRONG_STATE,
        f"{event.value} is not permitted in state {State.name(state)} ({SPEC})",
    )


def advance_by_dates(state: int, activation_date: int | None, deactivation_date: int | None, now: int) -> int:
    """Apply the date-driven transitions 4 and 6 (repeatedly: Pre-Active may pass through Active)."""
    if state == PRE_ACTIVE and activation_date is not None and activation_date <= now:
        state = ACTIVE
    if state == ACTIVE and deactivation_date is not None and deactivation_date <= now:
        state = DEACTIVATED
    return state
