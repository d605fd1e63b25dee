"""Generated PSKC containers for the benchmarks, cached under a temporary folder.

Every container is passphrase-protected (RFC 6030 §6.2: PBKDF2 -> AES-128-CBC) and MACed
(§6.1.1: HMAC-SHA1 over IV||ciphertext, MAC key carried encrypted), one HOTP key per
<KeyPackage> with a serial number, an encrypted 20-octet secret and a plain counter.  It
is written by the reference encoder's ``encode_stream``, so even a million keys never sit
in memory; generation is not part of any measurement.

Generation is deterministic (seeded secrets, IVs, salt and MAC key), so a cached file is
reused when its sidecar ``.json`` matches the request.  The sidecar records a digest of
the secrets as generated: decoders are checked against it, not against each other only.
The secrets are random benchmark data, never real key material; only digests are shown.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from harness.errors import InputError

# Bump when the shape of generated containers changes: old cache entries are then ignored.
GENERATOR_VERSION = 2
# A fixed benchmark passphrase protecting random benchmark secrets, not a credential.
BENCH_PASSWORD = "kplab-bench-passphrase"
DEFAULT_ITERATIONS = 100_000  # PBKDF2 count; the default of both python-pskc and our encoder
SECRET_OCTETS = 20  # an HOTP/SHA-1 seed (RFC 4226 §4 R6 recommends 160 bits)
HOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
SEED = 6030


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "kplab-bench"


class SecretsDigest:
    """SHA-256 over the secrets in document order, each length-prefixed.

    Two decoders that report the same count and digest decrypted the same octets for
    every key: the honesty check of the comparison.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def update(self, secret: bytes) -> None:
        self._hash.update(len(secret).to_bytes(4, "big") + secret)
        self.count += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def short(digest: str) -> str:
    """How a secrets digest is shown (enough to tell two apart)."""
    return f"sha256:{digest[:16]}"


@dataclass(frozen=True)
class Corpus:
    """A generated container on disk and what it must decode to."""

    path: Path
    keys: int
    iterations: int
    secrets_sha256: str
    size_bytes: int
    generator_version: int = GENERATOR_VERSION
    password: str = BENCH_PASSWORD

    def meta(self) -> dict:
        """What the cache sidecar records (full digest)."""
        out = asdict(self)
        out.pop("password")
        out["path"] = str(self.path)
        return out

    def describe(self) -> dict:
        """What the benchmark output shows (short digest, protection named)."""
        return {**self.meta(), "secrets_sha256": short(self.secrets_sha256),
                "protection": "PBKDF2-HMAC-SHA1 -> AES-128-CBC, HMAC-SHA1 ValueMAC"}


def _packages(keys: int, digest: SecretsDigest, progress: Callable[[str], None] | None) -> Iterator:
    from reference.pskc import DeviceInfo, Key, KeyData, KeyPackage, PlainValue

    secrets = random.Random(SEED)
    for i in range(keys):
        secret = secrets.randbytes(SECRET_OCTETS)
        digest.update(secret)
        yield KeyPackage(
            # No <Manufacturer>: RFC 6030 §4.3.1 wants an "oath."/"iana." registered value (a finding otherwise).
            device_info=DeviceInfo(serial_no=f"{i:010d}"),
            key=Key(id=f"bench-{i:07d}", algorithm=HOTP_URI,
                    data=KeyData(secret=PlainValue(secret), counter=PlainValue(i % 1000))),
        )
        if progress is not None and (i + 1) % 100_000 == 0:
            progress(f"  generated {i + 1:,} keys")


def _cached(path: Path, sidecar: Path, keys: int, iterations: int) -> Corpus | None:
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        size = path.stat().st_size
    except (OSError, ValueError):
        return None
    if (meta.get("generator_version") != GENERATOR_VERSION or meta.get("keys") != keys
            or meta.get("iterations") != iterations or meta.get("size_bytes") != size):
        return None
    return Corpus(path, keys, iterations, str(meta["secrets_sha256"]), size)


def ensure_corpus(keys: int, *, iterations: int = DEFAULT_ITERATIONS, cache_dir: Path | None = None,
                  progress: Callable[[str], None] | None = None) -> Corpus:
    """The cached container of ``keys`` keys, generated (streamed to disk) when missing.

    ``progress`` receives one-line notes while a container is generated (none on a hit)."""
    if keys < 1:
        raise InputError(f"a benchmark container needs at least one key, not {keys}")
    if iterations < 1:
        raise InputError(f"the PBKDF2 iteration count must be positive, not {iterations}")
    folder = cache_dir or default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the benchmark cache folder: {exc.strerror}", where=str(folder)) from None
    stem = f"pskc-pbkdf2-aescbc-hmac-{keys}keys-{iterations}iter-v{GENERATOR_VERSION}"
    path, sidecar = folder / f"{stem}.pskcxml", folder / f"{stem}.json"
    cached = _cached(path, sidecar, keys, iterations)
    if cached is not None:
        return cached

    from reference.pskc import KeyContainer, MACSpec, Passphrase, encode_stream

    if progress is not None:
        progress(f"generating a {keys:,}-key container in {folder} (kept for later runs)")
    digest = SecretsDigest()
    # Seeded stream for salt, MAC key and IVs: the same request gives the same file.
    # (Not a cryptographic RNG: acceptable for benchmark data only.)
    rng = random.Random(SEED + 1).randbytes
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            written = encode_stream(
                out, KeyContainer(id="kplab-bench"), _packages(keys, digest, progress),
                protection=Passphrase(BENCH_PASSWORD, algorithm="aes128-cbc", iterations=iterations),
                mac=MACSpec("hmac-sha1"), rng=rng,
            )
        assert written == keys == digest.count
        os.replace(tmp, path)  # atomic: a concurrent run never sees half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    corpus = Corpus(path, keys, iterations, digest.hexdigest(), path.stat().st_size)
    sidecar.write_text(json.dumps(corpus.meta(), indent=2) + "\n", encoding="utf-8")
    return corpus
