"""harness/bench/pskc.py and pskc_corpus.py: the PSKC benchmark does what it claims.

Not timing tests: tiny containers, cheap PBKDF2, and checks that both decoders did the
whole job on the same data (python-pskc, an independent peer, is the reference for what
the generated container holds), that figures come out in the documented shape, and
that no secret is printed.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from harness import exitcodes
from harness.bench import pskc as bench
from harness.bench.pskc_corpus import SECRET_OCTETS, SEED, SecretsDigest, ensure_corpus
from harness.errors import CryptoFailure, HarnessError

ITERATIONS = 1_000  # cheap PBKDF2 for tests; the benchmark default is 100,000
KEYS = 50
STREAM_KEYS = 2_000
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-cache")


@pytest.fixture(scope="module")
def corpus(cache_dir: Path):
    return ensure_corpus(KEYS, iterations=ITERATIONS, cache_dir=cache_dir)


def seeded_secrets(count: int) -> list[bytes]:
    """The secrets the generator promises (documented seed), computed here independently."""
    rng = random.Random(SEED)
    return [rng.randbytes(SECRET_OCTETS) for _ in range(count)]


# --------------------------------------------------------------------------- the container
def test_generated_container_is_pbkdf2_aes_cbc_with_a_mac_on_every_secret(corpus) -> None:
    from reference.pskc import EncryptedValue, decode

    sealed = decode(corpus.path)  # no password: values stay as written
    derived = sealed.encryption_key.derived_key
    assert derived.algorithm.endswith("#pbkdf2") and derived.pbkdf2.iteration_count == ITERATIONS
    assert sealed.mac_method.algorithm.endswith("#hmac-sha1") and sealed.mac_method.encrypted_mac_key is not None
    secrets = [p.key.data.secret for p in sealed.key_packages]
    assert len(secrets) == KEYS
    assert all(isinstance(s, EncryptedValue) and s.algorithm.endswith("#aes128-cbc") and s.value_mac for s in secrets)
    # A clean RFC 6030 document: the benchmark measures decoding, not reporting deviations.
    assert decode(corpus.path, password=corpus.password).all_findings() == ()


def test_python_pskc_reads_the_promised_secrets_and_digest(corpus) -> None:
    pskc = pytest.importorskip("pskc")
    document = pskc.PSKC(str(corpus.path))
    document.encryption.derive_key(corpus.password)
    assert [k.secret for k in document.keys] == seeded_secrets(KEYS)
    expected = hashlib.sha256(b"".join(len(s).to_bytes(4, "big") + s for s in seeded_secrets(KEYS))).hexdigest()
    assert corpus.secrets_sha256 == expected


def test_cached_container_is_reused_and_a_stale_one_regenerated(corpus, cache_dir: Path) -> None:
    again = ensure_corpus(KEYS, iterations=ITERATIONS, cache_dir=cache_dir)
    assert again == corpus
    mtime = corpus.path.stat().st_mtime_ns
    assert ensure_corpus(KEYS, iterations=ITERATIONS, cache_dir=cache_dir).path.stat().st_mtime_ns == mtime
    sidecar = corpus.path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "size_bytes": 1}))  # as if the file had been truncated
    regenerated = ensure_corpus(KEYS, iterations=ITERATIONS, cache_dir=cache_dir)
    assert regenerated.secrets_sha256 == corpus.secrets_sha256  # deterministic generation
    assert json.loads(sidecar.read_text())["size_bytes"] == corpus.size_bytes


# --------------------------------------------------------------------------- both decoders do the whole job
def test_both_decoders_reject_a_tampered_value_mac(corpus, tmp_path: Path) -> None:
    """The measured paths check every ValueMAC: a benchmark that skipped it would flatter."""
    pytest.importorskip("pskc")
    from pskc.exceptions import DecryptionError

    text = corpus.path.read_text()
    start = text.index("<pskc:ValueMAC>") + len("<pskc:ValueMAC>")
    flipped = "A" if text[start] != "A" else "B"
    tampered = tmp_path / "tampered.pskcxml"
    tampered.write_text(text[:start] + flipped + text[start + 1:])
    bad = type(corpus)(tampered, corpus.keys, corpus.iterations, corpus.secrets_sha256, corpus.size_bytes)
    with pytest.raises(CryptoFailure):
        bench.decode_ours(bad)
    with pytest.raises(DecryptionError):
        bench.decode_python_pskc(bad)


def test_each_decoder_derives_the_key_once_per_container(corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pskc")
    calls: list[int] = []
    real = hashlib.pbkdf2_hmac

    def counting(*args, **kwargs):
        calls.append(args[3] if len(args) > 3 else kwargs["iterations"])
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    bench.decode_ours(corpus)
    assert calls == [ITERATIONS]
    calls.clear()
    bench.decode_python_pskc(corpus)
    assert calls == [ITERATIONS]


def test_decode_bench_figures_for_both_decoders_on_the_same_secrets(cache_dir: Path) -> None:
    pytest.importorskip("pskc")
    result = bench.run_decode(KEYS, rounds=2, iterations=ITERATIONS, cache_dir=cache_dir)
    assert result.theirs is not None
    assert result.ours.keys == result.theirs.keys == KEYS
    assert result.ours.secrets_sha256 == result.theirs.secrets_sha256 == result.corpus.secrets_sha256
    assert result.secrets_agree
    assert len(result.ours.rounds) == len(result.theirs.rounds) == 2
    assert result.ratio_cpu == pytest.approx(result.ours.keys_per_s_cpu / result.theirs.keys_per_s_cpu)
    assert isinstance(result.target_met, bool) and result.target_ratio == 3.0
    figures = result.as_dict()
    assert set(figures) >= {"container", "pbkdf2_ms", "ours", "theirs", "ratio_cpu", "ratio_wall", "target_ratio",
                            "target_met", "secrets_agree", "note"}
    assert set(figures["ours"]) >= {"decoder", "version", "keys", "secrets_sha256", "keys_per_s_cpu",
                                    "keys_per_s_wall", "best_cpu_s", "rounds"}
    assert figures["theirs"]["decoder"] == "python-pskc" and figures["container"]["iterations"] == ITERATIONS
    json.dumps(figures)  # JSON-serialisable as printed by --json


def test_decoders_that_disagree_give_no_ratio(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong(corpus):
        digest = SecretsDigest()
        for _ in range(corpus.keys):
            digest.update(b"\x00" * SECRET_OCTETS)
        return digest

    monkeypatch.setattr(bench, "python_pskc_version", lambda: "fake")
    monkeypatch.setattr(bench, "decode_python_pskc", wrong)
    with pytest.raises(HarnessError, match="did not do the same work"):
        bench.run_decode(KEYS, rounds=1, iterations=ITERATIONS, cache_dir=cache_dir)


def test_without_python_pskc_only_ours_is_reported(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "python_pskc_version", lambda: None)
    result = bench.run_pskc_bench(keys=KEYS, stream_keys=0, rounds=1, iterations=ITERATIONS, cache_dir=cache_dir)
    assert result.decode.theirs is None and result.decode.ratio_cpu is None and result.decode.target_met is None
    assert result.stream is None and result.targets_met
    assert "python-pskc is not installed" in bench.render_pskc(result)
    assert result.as_dict()["decode"]["theirs"] is None


# --------------------------------------------------------------------------- streaming
def test_stream_bench_reports_the_child_decoders_peak_rss(cache_dir: Path) -> None:
    result = bench.run_stream(STREAM_KEYS, iterations=ITERATIONS, cache_dir=cache_dir)
    assert result.keys == STREAM_KEYS and result.secrets_agree
    assert result.rss_before_mb is not None and 0 < result.rss_before_mb <= result.peak_rss_mb
    assert result.target_mb == 200.0 and result.target_met is (result.peak_rss_mb < 200.0)
    figures = result.as_dict()
    assert set(figures) >= {"keys", "wall_s", "cpu_s", "peak_rss_mb", "rss_before_mb", "target_mb", "target_met",
                            "secrets_agree"}


def test_output_names_no_secret(cache_dir: Path) -> None:
    result = bench.run_pskc_bench(keys=KEYS, stream_keys=KEYS, rounds=1, iterations=ITERATIONS, cache_dir=cache_dir)
    printed = bench.render_pskc(result) + json.dumps(result.as_dict())
    assert "PSKC decode" in printed and "PSKC streaming" in printed and "peak RSS" in printed
    assert bench.short(result.decode.corpus.secrets_sha256) in printed
    for secret in seeded_secrets(KEYS):
        assert secret.hex() not in printed and secret.hex().upper() not in printed
    assert result.decode.corpus.secrets_sha256 not in printed  # only a short digest is shown


# --------------------------------------------------------------------------- CLI
def test_cli_bench_pskc_json(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "bench", "pskc", "--keys", "30", "--stream-keys", "300", "--rounds",
         "1", "--iterations", str(ITERATIONS), "--cache-dir", str(tmp_path / "cache"), "--json", "--quiet",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == exitcodes.OK, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures == json.loads(out.read_text())
    assert figures["benchmark"] == "pskc" and figures["decode"]["ours"]["keys"] == 30
    assert figures["stream"]["keys"] == 300 and figures["stream"]["secrets_agree"] is True
    assert proc.stderr == ""  # --quiet


def test_cli_bench_without_a_benchmark_is_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench"], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert proc.returncode == exitcodes.USAGE
    assert "pskc" in proc.stderr and "kmip" in proc.stderr


@pytest.mark.parametrize("met, fail_on_miss, code", [
    (False, False, exitcodes.OK),  # a benchmark reports; it does not gate by default
    (False, True, exitcodes.FAILURES),
    (True, True, exitcodes.OK),
])
def test_missed_target_exits_failures_only_with_fail_on_miss(met, fail_on_miss, code, tmp_path, capsys) -> None:
    import argparse

    from harness.commands.bench import _finish

    class Result:
        targets_met = met

        def as_dict(self):
            return {"targets_met": met}

    args = argparse.Namespace(json=True, out=tmp_path / "f.json", fail_on_miss=fail_on_miss)
    assert _finish(args, Result(), "table") == code
    assert json.loads(capsys.readouterr().out) == {"targets_met": met} == json.loads(args.out.read_text())


def test_profile_of_our_decoder_names_where_time_goes(corpus, tmp_path: Path) -> None:
    import pstats

    out = tmp_path / "ours.prof"
    summary = bench.profile_ours(corpus, out, top=10)
    assert "tottime" in summary
    functions = {f"{file}:{name}" for file, _, name in pstats.Stats(str(out)).stats}
    assert any(f.endswith("pskc/decode.py:read_container") for f in functions)
    assert any(f.endswith(":open_package") for f in functions)  # decryption really ran under the profiler


def test_a_decoder_failing_is_a_harness_error_naming_it(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(corpus):
        raise ValueError("MAC value does not match")

    monkeypatch.setattr(bench, "python_pskc_version", lambda: "fake")
    monkeypatch.setattr(bench, "decode_python_pskc", broken)
    with pytest.raises(HarnessError, match="python-pskc failed on the generated container: ValueError"):
        bench.run_decode(KEYS, rounds=1, iterations=ITERATIONS, cache_dir=cache_dir)
