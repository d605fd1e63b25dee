"""``kplab bench pskc``: decode throughput against python-pskc, and streaming memory.

Decode: one passphrase-protected, MACed container (see ``pskc_corpus``) is decoded by
``reference.pskc.decode`` and by python-pskc (``pskc.PSKC(path)``,
``encryption.derive_key(password)``, then every ``key.secret``) in the same process, in
interleaved rounds; the best round of each counts.  Both do the whole job: parse, derive
the key with PBKDF2 (same iteration count, once per container), decrypt every secret and
check its MAC.  A SHA-256 over the decrypted secrets must equal the generator's for both,
else no ratio is given (the sides did not do the same work).  Target: ours >= 3x theirs.

Stream: a large container is decoded with ``reference.pskc.iter_keys`` in a fresh
process (``pskc_stream_child``) that reports its own peak RSS.  Target: < 200 MB.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.bench.measure import Timing, best, render_table, timed
from harness.bench.pskc_corpus import DEFAULT_ITERATIONS, Corpus, SecretsDigest, ensure_corpus, short
from harness.errors import HarnessError, InputError

DECODE_TARGET_RATIO = 3.0  # ours / python-pskc keys per second
STREAM_TARGET_MB = 200.0  # peak RSS of the streaming decoder
# Rounds per decoder.  On the shared 2-core machines the ratio of single rounds varied by
# +-15 % between runs; the best of 5 interleaved rounds is steadier (about 35 s at 10,000 keys).
DECODE_ROUNDS = 5
OURS = "reference.pskc.decode"
THEIRS = "python-pskc"
Progress = Callable[[str], None]


# --------------------------------------------------------------------------- decoders
def decode_ours(corpus: Corpus) -> SecretsDigest:
    """Whole-document decode with our codec; every secret decrypted and MAC-checked."""
    from reference.pskc import PlainValue, decode

    # max_bytes=None: our own generated file (a 100,000-key one passes the 64 MB default).
    container = decode(corpus.path, password=corpus.password, max_bytes=None)
    digest = SecretsDigest()
    for package in container.key_packages:
        secret = package.key.data.secret if package.key and package.key.data else None
        if not isinstance(secret, PlainValue) or not isinstance(secret.value, bytes):
            raise HarnessError(f"{OURS} left key package {digest.count + 1} without a decrypted secret")
        digest.update(secret.value)
    return digest


def decode_python_pskc(corpus: Corpus) -> SecretsDigest:
    """python-pskc's documented way: parse, derive the key, read every ``key.secret``
    (its getter decrypts and checks the ValueMAC, raising DecryptionError on mismatch)."""
    import pskc

    document = pskc.PSKC(str(corpus.path))
    document.encryption.derive_key(corpus.password)
    digest = SecretsDigest()
    for key in document.keys:
        secret = key.secret
        if not isinstance(secret, bytes):
            raise HarnessError(f"{THEIRS} gave no secret for key {digest.count + 1}")
        digest.update(secret)
    return digest


def python_pskc_version() -> str | None:
    """python-pskc's version, or None when it is not installed."""
    try:
        import pskc  # noqa: F401
    except ImportError:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("python-pskc")
    except PackageNotFoundError:  # importable but not installed as a distribution
        return "?"


def our_version() -> str:
    from harness import __version__

    return __version__


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class DecoderFigures:
    decoder: str
    version: str
    keys: int
    secrets_sha256: str
    rounds: tuple[Timing, ...]

    @property
    def best(self) -> Timing:
        return best(self.rounds)

    @property
    def keys_per_s_cpu(self) -> float:
        return self.keys / self.best.cpu_s if self.best.cpu_s > 0 else float("inf")

    @property
    def keys_per_s_wall(self) -> float:
        return self.keys / self.best.wall_s if self.best.wall_s > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            "decoder": self.decoder, "version": self.version, "keys": self.keys,
            "secrets_sha256": short(self.secrets_sha256),
            "best_cpu_s": self.best.cpu_s, "best_wall_s": self.best.wall_s,
            "keys_per_s_cpu": self.keys_per_s_cpu, "keys_per_s_wall": self.keys_per_s_wall,
            "rounds": [{"cpu_s": t.cpu_s, "wall_s": t.wall_s} for t in self.rounds],
        }


@dataclass(frozen=True)
class DecodeResult:
    corpus: Corpus
    pbkdf2_ms: float  # one derivation with the container's parameters; each decoder does it once
    ours: DecoderFigures
    theirs: DecoderFigures | None  # None: python-pskc is not installed
    note: str
    target_ratio: float = DECODE_TARGET_RATIO

    @property
    def ratio_cpu(self) -> float | None:
        return self.ours.keys_per_s_cpu / self.theirs.keys_per_s_cpu if self.theirs else None

    @property
    def ratio_wall(self) -> float | None:
        return self.ours.keys_per_s_wall / self.theirs.keys_per_s_wall if self.theirs else None

    @property
    def target_met(self) -> bool | None:
        """Judged on CPU time (see harness.bench.measure); None without the peer."""
        return None if self.ratio_cpu is None else self.ratio_cpu >= self.target_ratio

    @property
    def secrets_agree(self) -> bool:
        digests = {self.corpus.secrets_sha256, self.ours.secrets_sha256}
        if self.theirs is not None:
            digests.add(self.theirs.secrets_sha256)
        return len(digests) == 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "container": self.corpus.describe(),
            "pbkdf2_ms": self.pbkdf2_ms,
            "ours": self.ours.as_dict(),
            "theirs": self.theirs.as_dict() if self.theirs else None,
            "ratio_cpu": self.ratio_cpu, "ratio_wall": self.ratio_wall,
            "target_ratio": self.target_ratio, "target_met": self.target_met,
            "secrets_agree": self.secrets_agree, "note": self.note,
        }


@dataclass(frozen=True)
class StreamResult:
    corpus: Corpus
    keys: int
    secrets_sha256: str
    wall_s: float
    cpu_s: float
    rss_before_mb: float | None  # the child after imports, before decoding
    peak_rss_mb: float
    target_mb: float = STREAM_TARGET_MB

    @property
    def keys_per_s(self) -> float:
        return self.keys / self.cpu_s if self.cpu_s > 0 else float("inf")

    @property
    def target_met(self) -> bool:
        return self.peak_rss_mb < self.target_mb

    @property
    def secrets_agree(self) -> bool:
        return self.keys == self.corpus.keys and self.secrets_sha256 == self.corpus.secrets_sha256

    def as_dict(self) -> dict[str, Any]:
        return {
            "decoder": "reference.pskc.iter_keys (fresh process)", "container": self.corpus.describe(),
            "keys": self.keys, "secrets_sha256": short(self.secrets_sha256), "secrets_agree": self.secrets_agree,
            "wall_s": self.wall_s, "cpu_s": self.cpu_s, "keys_per_s_cpu": self.keys_per_s,
            "rss_before_mb": self.rss_before_mb, "peak_rss_mb": self.peak_rss_mb,
            "target_mb": self.target_mb, "target_met": self.target_met,
        }


@dataclass(frozen=True)
class PskcBenchResult:
    decode: DecodeResult | None
    stream: StreamResult | None

    @property
    def targets_met(self) -> bool:
        """False when a measured target was missed (a target not measured does not count)."""
        return (self.decode is None or self.decode.target_met is not False) and (
            self.stream is None or self.stream.target_met)

    def as_dict(self) -> dict[str, Any]:
        return {"benchmark": "pskc", "decode": self.decode.as_dict() if self.decode else None,
                "stream": self.stream.as_dict() if self.stream else None, "targets_met": self.targets_met}


# --------------------------------------------------------------------------- runs
def _pbkdf2_ms(corpus: Corpus, rounds: int = 3) -> float:
    salt = bytes(16)
    timings = [timed(lambda: hashlib.pbkdf2_hmac("sha1", corpus.password.encode(), salt, corpus.iterations, 16))[0]
               for _ in range(rounds)]
    return best(timings).cpu_s * 1000


def _check(corpus: Corpus, decoder: str, digest: SecretsDigest) -> None:
    if digest.count != corpus.keys or digest.hexdigest() != corpus.secrets_sha256:
        raise HarnessError(
            f"{decoder} decoded {digest.count} secrets with digest {short(digest.hexdigest())}; the container "
            f"holds {corpus.keys} with {short(corpus.secrets_sha256)}: the decoders did not do the same work, "
            "so no ratio is given")


def run_decode(keys: int = 10_000, *, rounds: int = DECODE_ROUNDS, iterations: int = DEFAULT_ITERATIONS,
               cache_dir: Path | None = None, progress: Progress | None = None,
               with_peer: bool = True) -> DecodeResult:
    """Decode the same container with both codecs, ``rounds`` interleaved times each."""
    if rounds < 1:
        raise InputError(f"--rounds must be at least 1, not {rounds}")
    corpus = ensure_corpus(keys, iterations=iterations, cache_dir=cache_dir, progress=progress)
    peer_version = python_pskc_version() if with_peer else None
    sides: list[tuple[str, str, Callable[[Corpus], SecretsDigest]]] = [(OURS, our_version(), decode_ours)]
    if peer_version is not None:
        sides.append((THEIRS, peer_version, decode_python_pskc))
    timings: dict[str, list[Timing]] = {name: [] for name, _, _ in sides}
    digests: dict[str, SecretsDigest] = {}
    for r in range(rounds):
        # Alternate who goes first, so neither side always runs on a warmer (or busier) machine.
        for name, _, run in sides if r % 2 == 0 else list(reversed(sides)):
            if progress is not None:
                progress(f"  round {r + 1}/{rounds}: {name} decoding {keys:,} keys")
            try:
                timing, digest = timed(lambda run=run: run(corpus))
            except HarnessError:
                raise
            except Exception as exc:  # either codec failing on our own container is a lab failure
                raise HarnessError(f"{name} failed on the generated container: {type(exc).__name__}: {exc}",
                                   where=str(corpus.path)) from exc
            _check(corpus, name, digest)
            timings[name].append(timing)
            digests[name] = digest
    figures = {name: DecoderFigures(name, version, digests[name].count, digests[name].hexdigest(),
                                    tuple(timings[name])) for name, version, _ in sides}
    if peer_version is None:
        note = ("python-pskc is not installed (pip install python-pskc): only our decoder was measured"
                if with_peer else "peer not measured (--no-peer)")
    else:
        note = (f"both decoders parsed, derived the key once (PBKDF2, {iterations:,} iterations), decrypted "
                f"and MAC-checked all {keys:,} secrets; digests equal the generated ones; best of {rounds} "
                f"interleaved round{'s' if rounds != 1 else ''}; ratio judged on CPU time")
    return DecodeResult(corpus, _pbkdf2_ms(corpus), figures[OURS], figures.get(THEIRS), note)


def run_stream(keys: int = 1_000_000, *, iterations: int = DEFAULT_ITERATIONS, cache_dir: Path | None = None,
               progress: Progress | None = None, timeout: float | None = None) -> StreamResult:
    """Stream-decode a ``keys``-key container in a fresh process; its own peak RSS."""
    corpus = ensure_corpus(keys, iterations=iterations, cache_dir=cache_dir, progress=progress)
    if progress is not None:
        progress(f"streaming {keys:,} keys through reference.pskc.iter_keys in a fresh process")
    command = [sys.executable, "-m", "harness.bench.pskc_stream_child", str(corpus.path)]
    if progress is not None:
        command.append("--progress")
    try:
        proc = subprocess.run(command, input=corpus.password + "\n", stdout=subprocess.PIPE,
                              stderr=None if progress is not None else subprocess.PIPE, text=True,
                              timeout=timeout, cwd=Path(__file__).resolve().parents[2])
    except subprocess.TimeoutExpired:
        raise HarnessError(f"streaming {keys:,} keys took longer than {timeout} s") from None
    lines = proc.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        report = {}
    if proc.returncode != 0 or "error" in report or "peak_rss_mb" not in report:
        detail = report.get("error") or ((proc.stderr or "").strip().splitlines() or ["no output"])[-1]
        raise HarnessError(f"the streaming decoder process failed (exit {proc.returncode}): {detail}")
    result = StreamResult(corpus, int(report["keys"]), str(report["secrets_sha256"]), float(report["wall_s"]),
                          float(report["cpu_s"]), report.get("rss_before_mb"), float(report["peak_rss_mb"]))
    if not result.secrets_agree:
        raise HarnessError(f"iter_keys streamed {result.keys} secrets with digest {short(result.secrets_sha256)}; "
                           f"the container holds {corpus.keys} with {short(corpus.secrets_sha256)}")
    return result


def run_pskc_bench(*, keys: int = 10_000, stream_keys: int = 1_000_000, rounds: int = DECODE_ROUNDS,
                   iterations: int = DEFAULT_ITERATIONS, cache_dir: Path | None = None,
                   progress: Progress | None = None, with_peer: bool = True) -> PskcBenchResult:
    """Both parts; ``keys=0`` or ``stream_keys=0`` leaves that part out."""
    if keys < 0 or stream_keys < 0:
        raise InputError("key counts cannot be negative")
    decode = run_decode(keys, rounds=rounds, iterations=iterations, cache_dir=cache_dir, progress=progress,
                        with_peer=with_peer) if keys else None
    stream = run_stream(stream_keys, iterations=iterations, cache_dir=cache_dir,
                        progress=progress) if stream_keys else None
    return PskcBenchResult(decode, stream)


def profile_ours(corpus: Corpus, out: Path, *, top: int = 20) -> str:
    """One extra decode of ``corpus`` by our codec under cProfile (not part of any figure):
    stats written to ``out`` (for ``python -m pstats`` / snakeviz), the ``top`` entries by
    own time returned as text."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(decode_ours, corpus)
    try:
        profiler.dump_stats(out)
    except OSError as exc:
        raise InputError(f"cannot write the profile: {exc.strerror}", where=str(out)) from None
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime").print_stats(top)
    return text.getvalue()


# --------------------------------------------------------------------------- output
def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "NOT met")


def render_pskc(result: PskcBenchResult) -> str:
    out: list[str] = []
    d = result.decode
    if d is not None:
        c = d.corpus
        out.append(f"PSKC decode: {c.keys:,} keys, PBKDF2-HMAC-SHA1 ({c.iterations:,} iterations) -> AES-128-CBC, "
                   f"HMAC-SHA1 ValueMAC per secret ({c.size_bytes / 1e6:,.1f} MB)")
        out.append(f"PBKDF2 costs {d.pbkdf2_ms:,.0f} ms, done once per container by each decoder "
                   "(included in both times)")
        out.append("")
        rows = [[f.decoder, f.version, f.keys, short(f.secrets_sha256), f.best.cpu_s, f.best.wall_s,
                 f.keys_per_s_cpu, f.keys_per_s_wall] for f in (d.ours, d.theirs) if f is not None]
        out.append(render_table(["decoder", "version", "keys", "secrets digest", "best cpu s", "best wall s",
                                 "keys/s (cpu)", "keys/s (wall)"], rows))
        out.append("")
        if d.theirs is not None:
            out.append(f"ratio ours/python-pskc: {d.ratio_cpu:.2f}x (cpu), {d.ratio_wall:.2f}x (wall); "
                       f"target >= {d.target_ratio:g}x: {_verdict(d.target_met)}")
        out.append(f"note: {d.note}")
    s = result.stream
    if s is not None:
        if out:
            out.append("")
        out.append(f"PSKC streaming: reference.pskc.iter_keys in a fresh process, {s.corpus.keys:,}-key container "
                   f"({s.corpus.size_bytes / 1e6:,.0f} MB)")
        out.append("")
        out.append(render_table(
            ["decoder", "keys", "secrets digest", "cpu s", "wall s", "keys/s (cpu)", "RSS before MB",
             "peak RSS MB"],
            [["reference.pskc.iter_keys", s.keys, short(s.secrets_sha256), s.cpu_s, s.wall_s, s.keys_per_s,
              s.rss_before_mb, s.peak_rss_mb]]))
        out.append("")
        out.append(f"peak RSS {s.peak_rss_mb:,.1f} MB; target < {s.target_mb:g} MB: {_verdict(s.target_met)}; "
                   f"secrets digest equals the generated one: {'yes' if s.secrets_agree else 'NO'}")
    return "\n".join(out)
