"""kplab pskc validate|decode|encode: the reference PSKC codec (RFC 6030) on files.

Exit codes (harness.exitcodes):

* ``validate FILE``: 0 when no finding is at MUST level (schema verdict included, see
  --schema-policy), 1 when the document is invalid or has MUST findings (not XML,
  hostile XML and undecryptable values included), 2 for bad arguments or an unreadable
  file.
* ``decode FILE``: 0 decoded; 1 the document is refused (malformed or hostile XML, a
  violation the codec cannot read past, an unsupported feature, a value that does not
  decrypt or whose MAC does not verify: the codec cannot tell a wrong key from a
  tampered document, so both are refusals of the document); 2 bad arguments (key not
  hex, private key not an RSA PEM/DER key, unreadable file).  With --json the keys are
  written as they are read (bounded memory), so on a nonzero exit stdout is not a
  complete document: only exit 0 means it is.
* ``encode SPEC.json -o OUT``: 0 written; 2 for anything wrong with the spec or the
  options (OUT is then left untouched: written to a temporary file beside it, moved into
  place with os.replace only when complete).

Errors are one line on stderr: what, where, and for refusals the codec status and the
RFC section.  Key material is never printed except ``secret_hex`` by ``decode --json``
and ``decode --reveal-secret``, which the user asked for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from harness import exitcodes
from harness.errors import InputError, ProtocolError, UsageError
from harness.redaction import fingerprint

SCHEMA_POLICIES = ("both", "any", "libxml2", "xmlschema")  # reference.pskc.validation.POLICIES
PROTECTIONS = ("none", "psk", "pbe", "rsa")
DEFAULT_ALGORITHMS = {"psk": "aes128-cbc", "pbe": "aes128-cbc", "rsa": "rsa-oaep-mgf1p"}
DEFAULT_ITERATIONS = 100_000
MAX_FINDINGS = 1000  # decode keeps memory bounded: further findings are only counted


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pskc", help="validate, decode and encode PSKC (RFC 6030) files with the reference codec",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_no_action, pskc_parser=p)
    actions = p.add_subparsers(dest="pskc_command", metavar="ACTION", parser_class=type(p))

    v = actions.add_parser("validate", help="schema (libxml2 and xmlschema) and semantic checks, with levels")
    v.add_argument("file", type=Path, metavar="FILE")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument("--schema-policy", choices=SCHEMA_POLICIES, default="both",
                   help="which schema rejections are MUST findings: both (default: only when both validators "
                        "reject, since each has known false rejections), any, libxml2 or xmlschema")
    v.add_argument("--min-iterations", type=_positive, default=None, metavar="N",
                   help="PBKDF2 iteration count below which a SHOULD finding is raised (default 1000)")
    _credential_options(v, "also check that every value decrypts and every MAC verifies")
    v.set_defaults(func=run_validate)

    d = actions.add_parser("decode", help="print the keys of a document (streaming)")
    d.add_argument("file", type=Path, metavar="FILE")
    d.add_argument("--json", action="store_true", help='print {"keys": [...]} in the lab\'s KEY field names '
                   "(secrets in hex)")
    d.add_argument("--reveal-secret", action="store_true", help="table: show secrets in hex, not as fingerprints")
    d.add_argument("--strict", action="store_true", help="refuse deviations from RFC 6030 and pre-RFC syntax")
    _credential_options(d, "decrypt the values")
    d.set_defaults(func=run_decode)

    e = actions.add_parser("encode", help='write a PSKC document from {"keys": [KEY, ...]}')
    e.add_argument("spec", type=Path, metavar="SPEC.json")
    e.add_argument("-o", "--out", type=Path, required=True, metavar="OUT", help="document to write (atomically)")
    e.add_argument("--protection", choices=PROTECTIONS, default="none",
                   help="none, psk (--key), pbe (--password) or rsa (--certificate)")
    e.add_argument("--algorithm", metavar="A", help="encryption algorithm (default aes128-cbc; rsa-oaep-mgf1p for rsa)")
    e.add_argument("--mac", metavar="M", help="MAC algorithm (hmac-sha1 ...); default: HMAC-SHA1 exactly when the "
                   "cipher has no integrity check (RFC 6030 §6.1.1); 'none' writes no MAC (negative tests)")
    e.add_argument("--key", metavar="HEX", help="pre-shared key (psk)")
    e.add_argument("--key-name", metavar="NAME", default="Pre-shared-key", help="ds:KeyName of the pre-shared key")
    e.add_argument("--password", metavar="P", help="passphrase (pbe)")
    e.add_argument("--iterations", type=_positive, metavar="N", help=f"PBKDF2 iterations (pbe; default "
                   f"{DEFAULT_ITERATIONS})")
    e.add_argument("--certificate", type=Path, metavar="PEM", help="recipient X.509 certificate (rsa)")
    e.set_defaults(func=run_encode)


def _credential_options(parser: argparse.ArgumentParser, purpose: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password", metavar="P", help=f"passphrase (RFC 6030 §6.2): {purpose}")
    group.add_argument("--key", metavar="HEX", help=f"pre-shared key in hex (§6.1): {purpose}")
    group.add_argument("--private-key", type=Path, metavar="PEM", help=f"RSA private key file (§6.3): {purpose}")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _no_action(args: argparse.Namespace) -> int:
    args.pskc_parser.print_help(sys.stderr)
    return exitcodes.USAGE


# --------------------------------------------------------------------------- inputs
def _hex(text: str, option: str) -> bytes:
    try:
        value = bytes.fromhex(text.replace(" ", ""))
    except ValueError:
        value = b""
    if not value:
        raise UsageError(f"{option}: not a hexadecimal key")  # never echo the value: it is a secret
    return value


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", where=str(path)) from None


def _credentials(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.key is not None:
        out["key"] = _hex(args.key, "--key")
    if args.password is not None:
        out["password"] = args.password
    if args.private_key is not None:
        from reference.pskc import crypto

        # Loaded now so that a bad key is a usage error before any output.
        out["private_key"] = crypto.load_private_key(_read(args.private_key, "private key"))
    return out


def _refused(exc: ProtocolError, file: Path) -> int:
    where = f"{file}: {exc.where}" if exc.where else str(file)
    spec = f"; {exc.spec}" if exc.spec else ""
    print(f"kplab: error: {where}: {exc.message} [{exc.status}{spec}]", file=sys.stderr)
    return exitcodes.FAILURES


# --------------------------------------------------------------------------- validate
def run_validate(args: argparse.Namespace) -> int:
    from reference.pskc.protection import Credentials
    from reference.pskc.validation import validate_document

    credentials = Credentials(**_credentials(args))
    data = _read(args.file, "document")
    report = validate_document(data, credentials, policy=args.schema_policy, min_iterations=args.min_iterations)
    report = {"file": str(args.file), **report}
    try:
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            _print_validation(report)
    except BrokenPipeError:  # `kplab pskc validate ... | head`: the verdict still stands
        _stdout_closed()
    return exitcodes.OK if report["valid"] else exitcodes.FAILURES


def _stdout_closed() -> None:
    # The reader went away: send what Python still wants to flush into the void, so that
    # the interpreter does not report the broken pipe again at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _print_validation(report: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {level}" for level, n in report["counts"].items())
    print(f"{report['file']}: {'valid' if report['valid'] else 'INVALID'} ({counts})")
    schema = report["schema"]
    if schema["verdict"] == "not-run":
        print("  schema: not run (the document is not XML the lab will parse)")
    else:
        parts = [f"{name} {'valid' if schema[name]['valid'] else 'INVALID'}" for name in ("libxml2", "xmlschema")]
        print(f"  schema: {'; '.join(parts)} -> {schema['verdict']} (policy {schema['policy']})")
        for name in ("libxml2", "xmlschema"):
            for message in schema[name]["messages"]:
                print(f"    {name}: {message}")
    for f in report["findings"]:
        where = f" ({f['where']})" if f.get("where") else ""
        print(f"  {f['level']:<6} {f['code']}: {f['message']}{where} [{f['spec']}]")


# --------------------------------------------------------------------------- decode
def run_decode(args: argparse.Namespace) -> int:
    credentials = _credentials(args)
    try:
        handle = open(args.file, "rb")
    except OSError as exc:
        raise InputError(f"cannot read document: {exc.strerror or exc}", where=str(args.file)) from None
    progress = {"count": 0}
    with handle:
        try:
            return _decode_stream(args, handle, credentials, progress)
        except BrokenPipeError:  # `kplab pskc decode ... | head`: stop reading, quietly
            _stdout_closed()
            return exitcodes.OK
        except ProtocolError as exc:
            sys.stdout.flush()
            if exc.where is None:  # e.g. a decryption failure: name the package being read
                exc.where = f"KeyPackage {progress['count'] + 1}"
            return _refused(exc, args.file)


class _FindingLog:
    """Decoder findings with their level, the first MAX_FINDINGS kept, the rest counted."""

    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []
        self.total = 0

    def add(self, findings: Any, where: str | None = None) -> None:
        from dataclasses import replace

        from reference.pskc.semantics import SEVERITY_LEVELS, LeveledFinding
        from harness.results import Level

        for finding in findings:
            self.total += 1
            if len(self.kept) < MAX_FINDINGS:
                if where:
                    finding = replace(finding, where=f"{where}: {finding.where}" if finding.where else where)
                level = SEVERITY_LEVELS.get(finding.severity, Level.MUST)
                self.kept.append(LeveledFinding(level, finding, "codec").to_json())


def _decode_stream(args: argparse.Namespace, handle: IO[bytes], credentials: dict[str, Any],
                   progress: dict[str, int]) -> int:
    from reference import pskc
    from reference.pskc.adapter import to_role

    stream = pskc.iter_keys(handle, strict=args.strict, **credentials)
    log = _FindingLog()
    out = sys.stdout
    encrypted = 0
    # The opening is written with the first key, so a document refused before its first
    # key (wrong key or password, malformed XML) leaves stdout empty.
    opening = '{"keys": [' if args.json else _row("#", "ID", "ALGORITHM", "SERIAL", "COUNTER/TIME", "SECRET")
    for package in stream:
        fields = to_role(pskc.decoded_fields(package))
        progress["count"] = stream.count
        log.add(package.findings, f"KeyPackage {stream.count}")
        encrypted += bool(fields.get("encrypted_fields"))
        if args.json:
            out.write((opening + "\n  " if stream.count == 1 else ",\n  ") + json.dumps(fields))
        else:
            out.write((opening if stream.count == 1 else "") + _table_row(stream.count, fields, args.reveal_secret))
    header = stream.header
    assert header is not None  # set once the stream is exhausted
    log.add(header.findings)
    if args.json:
        container = {**pskc.container_fields(header), "key_packages": stream.count}
        container.pop("encryption_algorithms", None)  # computed from held keys: none are held here
        tail = {"container": container, "findings": log.kept}
        if log.total > len(log.kept):
            tail["findings_omitted"] = log.total - len(log.kept)
        out.write(("\n" if stream.count else opening) + "], " + json.dumps(tail)[1:] + "\n")
        return exitcodes.OK
    if not stream.count:
        out.write(opening)
    print(f"{stream.count} key package(s)")
    if encrypted:
        print(f"{encrypted} key(s) still encrypted: give --key, --password or --private-key to decrypt")
    for f in log.kept:
        where = f" ({f['where']})" if f.get("where") else ""
        print(f"{f['level']:<6} {f['code']}: {f['message']}{where} [{f['spec']}]")
    if log.total > len(log.kept):
        print(f"... and {log.total - len(log.kept)} more finding(s)")
    return exitcodes.OK


def _row(*cells: str) -> str:
    widths = (5, 18, 12, 14, 14)
    return "".join(c.ljust(w) for c, w in zip(cells, widths)) + cells[-1] + "\n"


def _table_row(number: int, fields: dict[str, Any], reveal: bool) -> str:
    from reference.pskc.profiles import profile_for

    profile = profile_for(fields.get("algorithm"))
    algorithm = profile.name if profile is not None else (fields.get("algorithm") or "-")
    moving = fields.get("counter", fields.get("time"))
    if "secret_hex" in fields:
        secret = fields["secret_hex"] if reveal else fingerprint(bytes.fromhex(fields["secret_hex"]))
    elif "secret" in fields.get("encrypted_fields", ()):
        secret = "(encrypted)"
    else:
        secret = "-"
    return _row(str(number), str(fields.get("id", "-")), algorithm, str(fields.get("serial", "-")),
                "-" if moving is None else str(moving), secret)


# --------------------------------------------------------------------------- encode
def _load_spec(path: Path) -> list[dict[str, Any]]:
    try:
        spec = json.loads(_read(path, "key spec").decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}:{exc.colno}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("keys"), list):
        raise InputError('expected an object {"keys": [KEY, ...]}', where=str(path))
    unknown = sorted(set(spec) - {"keys"})
    if unknown:
        raise InputError(f"unknown member(s) {', '.join(unknown)}; only \"keys\" is read", where=str(path))
    return spec["keys"]


def _protection(args: argparse.Namespace) -> tuple[Any, Any]:
    """(Protection or None, mac argument of reference.pskc.encode)."""
    from reference import pskc

    method = args.protection
    needs = {"psk": "key", "pbe": "password", "rsa": "certificate"}
    for option in ("key", "password", "certificate"):
        if getattr(args, option) is not None and needs.get(method) != option:
            raise UsageError(f"--{option} does not go with --protection {method}")
    if method != "pbe" and args.iterations is not None:
        raise UsageError(f"--iterations does not go with --protection {method}")
    if method == "none":
        if args.algorithm is not None or args.mac is not None:
            raise UsageError("--algorithm and --mac need --protection psk, pbe or rsa")
        return None, None
    if getattr(args, needs[method]) is None:
        raise UsageError(f"--protection {method} needs --{needs[method]}")
    algorithm = args.algorithm or DEFAULT_ALGORITHMS[method]
    mac: Any = "auto" if args.mac is None else (None if args.mac == "none" else pskc.MACSpec(algorithm=args.mac))
    if method == "psk":
        return pskc.PreSharedKey(key=_hex(args.key, "--key"), algorithm=algorithm, key_name=args.key_name), mac
    if method == "pbe":
        return pskc.Passphrase(password=args.password, algorithm=algorithm,
                               iterations=args.iterations or DEFAULT_ITERATIONS), mac
    return pskc.RecipientCertificate(certificate=_read(args.certificate, "certificate"), algorithm=algorithm), mac


def run_encode(args: argparse.Namespace) -> int:
    from reference import pskc
    from reference.pskc.adapter import from_role

    protection, mac = _protection(args)
    keys = _load_spec(args.spec)
    container = pskc.container_from_fields([from_role(k) if isinstance(k, dict) else k for k in keys])
    count = _write_atomically(args.out, lambda out: pskc.encode_stream(
        out, container, container.key_packages, protection=protection, mac=mac if protection else "auto"))
    what = "plaintext" if protection is None else f"{args.protection} {getattr(protection, 'algorithm', '')}"
    print(f"wrote {args.out}: {count} key package(s), {what}")
    return exitcodes.OK


def _write_atomically(path: Path, write: Any) -> Any:
    """Run ``write(binary file)`` on a temporary file beside ``path``, then move it into
    place; on any failure the temporary file is removed and ``path`` is untouched.
    The file is created 0600 (mkstemp): it holds key material."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", where=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"cannot write: {exc.strerror or exc}", where=str(path)) from None
        raise
    return result
