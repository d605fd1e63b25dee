"""The one exception tree of keyprov-lab.

Two branches never mix:

* ``ProtocolError`` and its children are *findings about an implementation*: a message
  that violates a standard.  Each carries the status / result code it maps to on the wire
  (a DSKPP ``Status``, a KMIP ``ResultReason``, a PSKC finding id) so a reference engine
  can answer with it.
* ``HarnessError`` and its children are *failures of the lab's plumbing*: an adapter that
  hangs, crashes or speaks garbage, a missing binary.  They become ERROR outcomes, never
  FAIL, so a broken adapter is never reported as non-conformance.

``InputError`` is for bad input handed to us by a user (a file, a CLI argument); it names
what is wrong and where.  ``UsageError`` is a bad command line.
"""

from __future__ import annotations


class KplabError(Exception):
    """Root of every error raised on purpose by keyprov-lab."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


# --------------------------------------------------------------------------- protocol
class ProtocolError(KplabError):
    """A message or document violates a standard.

    ``status`` is what the violation maps to on the wire (e.g. DSKPP ``"MalformedRequest"``,
    KMIP ``"Invalid Message"``); ``spec`` names the section that is violated.
    """

    def __init__(
        self,
        message: str,
        *,
        status: str,
        spec: str | None = None,
        where: str | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.status = status
        self.spec = spec


class MalformedInput(ProtocolError):
    """Not parseable at all: not XML, bad TTLV length, truncated input."""


class SchemaViolation(ProtocolError):
    """Parseable, but not of the schema's shape."""


class UnsafeInput(ProtocolError):
    """Hostile structure refused before parsing: DTD, entities, size or depth bombs."""


class CryptoFailure(ProtocolError):
    """A MAC that does not verify, a key that does not decrypt, bad padding."""


class UnsupportedFeature(ProtocolError):
    """Well-formed but uses an algorithm, version or extension this engine refuses."""


# --------------------------------------------------------------------------- harness
class HarnessError(KplabError):
    """The lab could not do its job; never a verdict on the implementation."""


class AdapterError(HarnessError):
    """An adapter misbehaved as a piece of software (not as an implementation)."""

    def __init__(self, message: str, *, adapter: str, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.adapter = adapter


class AdapterTimeout(AdapterError):
    """An adapter call did not answer within its time limit."""


class AdapterCrash(AdapterError):
    """The adapter process died or raised an unexpected exception."""


class AdapterGarbage(AdapterError):
    """The adapter answered with something that is not a valid response."""


class AdapterUnavailable(AdapterError):
    """The adapter cannot run here (binary or package missing, server not ready)."""


class Unsupported(HarnessError):
    """The adapter declined an operation (the shim's reserved "unsupported" answer).

    Not an error of the run: the case outcome is UNSUPPORTED.
    """

    def __init__(self, message: str, *, adapter: str, operation: str) -> None:
        super().__init__(message)
        self.adapter = adapter
        self.operation = operation


# --------------------------------------------------------------------------- answers
class ImplementationAnswer(KplabError):
    """An implementation under test answered, but not with a result.

    Neither a harness failure nor, by itself, non-conformance: a suite decides whether a
    refusal was required (negative case) or wrong (positive case).
    """

    def __init__(self, message: str, *, adapter: str, operation: str) -> None:
        super().__init__(message)
        self.adapter = adapter
        self.operation = operation


class Refused(ImplementationAnswer):
    """A clean refusal: the implementation rejected the input with its own typed error.

    ``status`` is the implementation's error class or protocol status, as it reported it.
    """

    def __init__(self, message: str, *, adapter: str, operation: str, status: str) -> None:
        super().__init__(message, adapter=adapter, operation=operation)
        self.status = status


class Fault(ImplementationAnswer):
    """The implementation itself blew up (an unexpected exception inside the library).

    The adapter survived and reported it, so this is a finding about the implementation
    (e.g. an importer that raises KeyError on a key without Id), not a harness error.
    """

    def __init__(self, message: str, *, adapter: str, operation: str, type: str) -> None:
        super().__init__(message, adapter=adapter, operation=operation)
        self.type = type


# --------------------------------------------------------------------------- user input
class InputError(KplabError):
    """A file, document or value a user gave us is unusable; names what and where."""


class UsageError(KplabError):
    """A command line that cannot be acted on (unknown adapter, bad option value)."""


class ConfigError(InputError):
    """An adapter description, expected-failure file or server config is invalid."""
