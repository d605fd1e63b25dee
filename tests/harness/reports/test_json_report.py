from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from harness.errors import HarnessError, InputError
from harness.reports import json_report
from harness.reports.json_report import build_run_metadata, load_results, write_results
from harness.results import Level, Outcome, RunResult

from .conftest import build_sample_run, case, run_meta

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "harness" / "schemas" / "results.schema.json"


def schema() -> dict:
    # Read the file directly, not through the module under test.
    return json.loads(SCHEMA_FILE.read_text("utf-8"))


def validate(document: dict) -> None:
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(document)


def test_schema_is_a_valid_draft_2020_12_schema():
    data = schema()
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(data)


def test_schema_enums_are_exactly_the_model_enums():
    defs = schema()["$defs"]
    assert defs["outcome"]["enum"] == ["pass", "fail", "unsupported", "skip", "xfail", "xpass", "error"]
    assert defs["outcome"]["enum"] == [o.value for o in Outcome]
    assert defs["level"]["enum"] == ["MUST", "SHOULD", "MAY", "INFO"] == [lvl.value for lvl in Level]
    assert sorted(defs["summary"]["properties"]["counts"]["required"]) == sorted(o.value for o in Outcome)


def _property_schemas(node, path="$"):
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, value in node.items():
            yield from _property_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _property_schemas(value, f"{path}[{i}]")


def test_every_member_is_described():
    data = schema()
    defs = data["$defs"]
    undescribed = []
    for where, sub in _property_schemas(data):
        if "description" in sub:
            continue
        ref = sub.get("$ref", "")
        if ref.startswith("#/$defs/") and "description" in defs[ref.split("/")[-1]]:
            continue
        undescribed.append(where)
    assert undescribed == []
    assert all("description" in d for d in defs.values())


def test_hand_built_run_with_every_outcome_validates():
    run = build_sample_run()
    assert {c.outcome for c in run.cases} == set(Outcome)
    assert {c.level for c in run.cases} == set(Level)
    document = run.to_json()
    validate(document)
    assert document["summary"] == {
        "counts": {"pass": 6, "fail": 1, "unsupported": 1, "skip": 1, "xfail": 1, "xpass": 1, "error": 1},
        "total": 12,
        "must_failures": 2,
    }


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.__setitem__("extra", 1),
        lambda d: d["run"].__setitem__("extra", 1),
        lambda d: d["adapters"][0].__setitem__("extra", 1),
        lambda d: d["adapters"][0]["probe"].__setitem__("extra", 1),
        lambda d: d["cases"][0].__setitem__("extra", 1),
        lambda d: d["cases"][5]["evidence"][0].__setitem__("extra", 1),
        lambda d: d["summary"]["counts"].__setitem__("extra", 1),
    ],
    ids=["top", "run", "adapter", "probe", "case", "evidence", "counts"],
)
def test_schema_objects_are_closed(mutate):
    document = build_sample_run().to_json()
    mutate(document)
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


def test_write_then_load_round_trips(tmp_path):
    run = build_sample_run()
    path = write_results(run, tmp_path / "out" / "results.json")
    assert path == tmp_path / "out" / "results.json"
    loaded = load_results(path)
    assert loaded.to_json() == run.to_json()
    assert loaded.cases == run.cases
    assert loaded.adapters == run.adapters


def test_atomic_write_leaves_no_temp_files(tmp_path):
    run = build_sample_run()
    write_results(run, tmp_path / "results.json")
    write_results(run, tmp_path / "results.json")  # replacing an existing file too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_crash_during_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, fail_at):
    target = tmp_path / "results.json"
    target.write_text("OLD", encoding="utf-8")

    def boom(*args, **kwargs):
        raise OSError("simulated crash")

    monkeypatch.setattr(json_report.os, fail_at, boom)
    with pytest.raises(OSError, match="simulated crash"):
        write_results(build_sample_run(), target)
    assert target.read_text("utf-8") == "OLD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_write_refuses_a_document_the_schema_rejects(tmp_path):
    run = build_sample_run()
    run.run = {"id": "incomplete"}
    with pytest.raises(HarnessError) as err:
        write_results(run, tmp_path / "results.json")
    assert "$.run" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def _write(tmp_path: Path, document) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _load_error(path: Path) -> str:
    with pytest.raises(InputError) as err:
        load_results(path)
    message = str(err.value)
    assert str(path) in message  # names the file
    return message


def test_load_missing_file(tmp_path):
    assert "not found" in _load_error(tmp_path / "nope.json")


def test_load_directory(tmp_path):
    assert "directory" in _load_error(tmp_path)


def test_load_not_json(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"schema_version": 1,\n  "run": }', encoding="utf-8")
    message = _load_error(path)
    assert "not JSON" in message and "line 2" in message


def test_load_not_utf8(tmp_path):
    path = tmp_path / "results.json"
    path.write_bytes(b"\xff\xfe{}")
    assert "UTF-8" in _load_error(path)


@pytest.mark.parametrize(
    "mutate, json_path",
    [
        (lambda d: d["cases"][1].__setitem__("outcome", "passed"), "$.cases[1].outcome"),
        (lambda d: d["cases"][0].pop("spec"), "$.cases[0]"),
        (lambda d: d["cases"][2].__setitem__("duration_s", "fast"), "$.cases[2].duration_s"),
        (lambda d: d["cases"][10]["evidence"][2].__setitem__("encoding", "latin-1"), "$.cases[10].evidence[2].encoding"),
        (lambda d: d["run"].__setitem__("started", "yesterday"), "$.run.started"),
        (lambda d: d["adapters"][1]["probe"].__setitem__("outcome", "fine"), "$.adapters[1].probe.outcome"),
        (lambda d: d.__setitem__("cases", {}), "$.cases"),
    ],
    ids=["bad-outcome", "missing-member", "wrong-type", "bad-encoding", "bad-timestamp", "bad-probe", "cases-not-array"],
)
def test_load_schema_invalid_names_json_path(tmp_path, mutate, json_path):
    document = build_sample_run().to_json()
    mutate(document)
    message = _load_error(_write(tmp_path, document))
    assert f"{json_path}:" in message


def test_load_reports_the_first_error_in_document_order(tmp_path):
    document = build_sample_run().to_json()
    document["cases"][7]["level"] = "MUSTN'T"
    document["cases"][3]["level"] = "SHALL"
    message = _load_error(_write(tmp_path, document))
    assert "$.cases[3].level:" in message and "cases[7]" not in message


def test_load_refuses_duplicate_case_ids(tmp_path):
    run = build_sample_run()
    run.cases.append(replace(run.cases[0]))
    message = _load_error(_write(tmp_path, run.to_json()))
    assert "$.cases[12].id" in message and "duplicate" in message


def test_load_refuses_summary_that_disagrees_with_cases(tmp_path):
    document = build_sample_run().to_json()
    document["summary"]["counts"]["pass"] = 7
    assert "$.summary" in _load_error(_write(tmp_path, document))


def test_load_refuses_unknown_schema_version(tmp_path):
    document = build_sample_run().to_json()
    document["schema_version"] = 2
    assert "schema_version 2" in _load_error(_write(tmp_path, document))


def test_load_error_message_is_bounded_for_huge_values(tmp_path):
    document = build_sample_run().to_json()
    document["cases"][0]["reason"] = ["x" * 100_000]
    message = _load_error(_write(tmp_path, document))
    assert "$.cases[0].reason:" in message and len(message) < 600


def test_build_run_metadata_is_schema_valid():
    meta = build_run_metadata(
        run_id="r1",
        started=datetime(2024, 1, 1, tzinfo=timezone.utc),
        finished=datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc),
        duration_s=60,
        profile="quick",
        argv=["run"],
        suites=["otp-vectors"],
        adapters=["reference-otp"],
        exit_status=0,
        kplab_version="9.9",
    )
    run = RunResult(run=meta, cases=[case("otp-vectors", "hotp", Outcome.PASS)])
    validate(run.to_json())
    assert meta["started"] == "2024-01-01T00:00:00+00:00"
    with pytest.raises(ValueError):
        build_run_metadata(
            run_id="r1", started=datetime(2024, 1, 1), finished=datetime(2024, 1, 1, tzinfo=timezone.utc),
            duration_s=0, profile="p", argv=[], suites=[], adapters=[], exit_status=0,
        )


def test_sample_metadata_matches_schema_run_members():
    assert sorted(run_meta()) == sorted(schema()["$defs"]["run"]["required"])


def test_written_file_is_readable_by_others(tmp_path):
    path = write_results(build_sample_run(), tmp_path / "results.json")
    assert os.stat(path).st_mode & 0o044 == 0o044
