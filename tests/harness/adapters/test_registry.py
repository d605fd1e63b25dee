"""Description files, discovery and the probe."""

from __future__ import annotations

import pytest

from harness.adapters.registry import discover_entry_points, load_description, open_adapter, probe, resolve
from harness.errors import ConfigError, UsageError


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("name = ", "not valid TOML"),
        ('roles = ["otp-generator"]\n[transport]\nkind = "shim"\ncommand = ["x"]\n', "missing required key 'name'"),
        ('name = "a"\nroles = ["toaster"]\n[transport]\nkind = "shim"\ncommand = ["x"]\n', "unknown: ['toaster']"),
        ('name = "a"\nroles = ["otp-generator"]\n[transport]\nkind = "carrier-pigeon"\n', "transport kind must be"),
        ('name = "a"\nroles = ["otp-generator"]\n[transport]\nkind = "shim"\ncommand = "x"\n', "command = [program"),
        ('name = "a"\nroles = ["otp-generator"]\n[transport]\nkind = "endpoint"\nurl = "ftp://x"\n', "url = 'http"),
    ],
)
def test_bad_description_names_file_and_problem(tmp_path, text, complaint):
    path = tmp_path / "adapter.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_description(path)
    assert complaint in str(info.value)
    assert str(path) in str(info.value)


def test_missing_description_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_description(tmp_path / "nope.toml")


def test_unknown_adapter_name_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown adapter.*no-such-adapter"):
        resolve(["no-such-adapter"])


def test_bundled_adapters_are_discovered_from_entry_points():
    specs = discover_entry_points()
    assert {"reference-pskc", "reference-otp", "python-pskc"} <= set(specs)
    assert specs["reference-otp"].third_party is False


@pytest.mark.parametrize(
    "mode, outcome",
    [("good", "ok"), ("probe-accept", "accepted"), ("probe-crash", "crash"), ("probe-hang", "timeout")],
)
def test_probe_outcomes(double_file, mode, outcome):
    adapter = open_adapter(load_description(double_file(mode, timeout=0.5)))
    try:
        assert probe(adapter).outcome == outcome
    finally:
        adapter.close()
