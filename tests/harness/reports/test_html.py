from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import lxml.html
import pytest

from harness.errors import InputError
from harness.reports import html as html_report
from harness.reports import views
from harness.reports.html import render_html
from harness.results import Outcome, RunResult

from .conftest import HOSTILE, PNG_1X1, SVG_PLOT, build_sample_run, case, run_meta

CHROMIUM = "/usr/bin/chromium"

# What the sample run's matrix must show, written out by hand from conftest.
EXPECTED_COLUMNS = ["reference-pskc", "oathtool", "python-pskc", ""]  # reference first, no-subject last
EXPECTED_ROWS = [
    "lab-selftest/schemas-compile",
    "otp-vectors/hotp[vector=rfc4226-0]",
    "otp-vectors/timing[vector=rfc4226-0]",
    "otp-vectors/totp[vector=rfc4226-0]",
    "pskc-interop/import",  # self-pairs: producer == consumer == subject
    "pskc-interop/import[producer=python-pskc]",
    "pskc-interop/import[producer=reference-pskc]",
    "pskc-interop/roundtrip[producer=reference-pskc]",
]
EXPECTED_CELLS = {
    ("lab-selftest/schemas-compile", ""): "pass",
    ("otp-vectors/hotp[vector=rfc4226-0]", "reference-pskc"): "pass",
    ("otp-vectors/hotp[vector=rfc4226-0]", "oathtool"): "error",
    ("otp-vectors/hotp[vector=rfc4226-0]", "python-pskc"): "xpass",
    ("otp-vectors/timing[vector=rfc4226-0]", "python-pskc"): "pass",
    ("otp-vectors/totp[vector=rfc4226-0]", "reference-pskc"): "unsupported",
    ("otp-vectors/totp[vector=rfc4226-0]", "python-pskc"): "skip",
    ("pskc-interop/import", "reference-pskc"): "pass",
    ("pskc-interop/import", "python-pskc"): "xfail",
    ("pskc-interop/import[producer=python-pskc]", "reference-pskc"): "pass",
    ("pskc-interop/import[producer=reference-pskc]", "python-pskc"): "fail",
    ("pskc-interop/roundtrip[producer=reference-pskc]", "python-pskc"): "pass",
}
EXPECTED_MUST_FAIL = {
    ("otp-vectors/hotp[vector=rfc4226-0]", "python-pskc"),  # MUST + xpass
    ("pskc-interop/import[producer=reference-pskc]", "python-pskc"),  # MUST + fail
}


@pytest.fixture
def report(tmp_path) -> Path:
    index = render_html(build_sample_run(), tmp_path / "html")
    assert index == tmp_path / "html" / "index.html"
    return tmp_path / "html"


def parse(path: Path):
    return lxml.html.fromstring(path.read_text("utf-8"))


def matrix_of(doc):
    """(row keys, column keys, {(row, column): (outcomes, classes)}) of #interop-matrix."""
    (table,) = doc.xpath('//table[@id="interop-matrix"]')
    columns = [th.get("data-impl") for th in table.xpath('.//th[contains(@class, "impl")]')]
    rows, cells = [], {}
    for tr in table.xpath('.//tr[contains(@class, "case-row")]'):
        rows.append(tr.get("data-row"))
        for td in tr.xpath('./td[@data-impl]'):
            outcomes = [a.get("data-outcome") for a in td.xpath("./a")]
            cells[(tr.get("data-row"), td.get("data-impl"))] = (outcomes, td.get("class").split(), td)
    return rows, columns, cells


def test_matrix_rows_columns_and_cells(report):
    rows, columns, cells = matrix_of(parse(report / "index.html"))
    assert rows == EXPECTED_ROWS
    assert columns == EXPECTED_COLUMNS
    assert {key: outcomes[0] for key, (outcomes, _, _) in cells.items()} == EXPECTED_CELLS
    assert all(len(outcomes) == 1 for outcomes, _, _ in cells.values())
    must = {key for key, (_, classes, _) in cells.items() if "must-fail" in classes}
    assert must == EXPECTED_MUST_FAIL
    for key in EXPECTED_MUST_FAIL:
        anchor = cells[key][2].xpath("./a")[0]
        assert "must-fail" in anchor.get("class") and "MUST" in anchor.text_content()


def test_every_case_page_exists_and_matrix_links_resolve(report):
    run = build_sample_run()
    pages = sorted(p.name for p in (report / "cases").glob("*.html"))
    assert len(pages) == len(run.cases)
    doc = parse(report / "index.html")
    links = doc.xpath('//table[@id="interop-matrix"]//a/@href')
    assert len(links) == len(set(links)) == len(run.cases)  # each case once
    for href in links:
        assert href.startswith("cases/") and (report / href).is_file()
    # Every other relative link on the index (MUST list, pairwise) resolves too.
    for href in doc.xpath("//a/@href"):
        if not href.startswith("#"):
            assert (report / href).is_file(), href
    titles = {parse(report / href).xpath("//h1")[0].text_content() for href in links}
    assert titles == {c.id for c in run.cases}


def test_case_pages_link_back_and_show_case_fields(report):
    run = build_sample_run()
    xpass = next(c for c in run.cases if c.outcome is Outcome.XPASS)
    page = report / "cases" / f"{views.case_slug(xpass.id)}.html"
    doc = parse(page)
    assert (page.parent / doc.xpath("//nav/a/@href")[0]).resolve() == (report / "index.html").resolve()
    text = doc.text_content()
    for needle in ["otp-vectors", "RFC 6030 §6.1", "MUST", "issue #12: truncation off by one", "stale", "250.0 ms"]:
        assert needle in text
    assert "must-fail" in doc.xpath('//*[@id="outcome"]')[0].get("class")
    roles = [tuple(td.text_content() for td in tr.xpath("./td"))[:2] for tr in doc.xpath('//table[@id="case-adapters"]//tr[td]')]
    assert roles == [("otp-generator", "python-pskc (subject)")]


def test_hostile_strings_are_escaped_everywhere(report):
    pages = [report / "index.html", *sorted((report / "cases").glob("*.html"))]
    for page in pages:
        raw = page.read_text("utf-8")
        assert HOSTILE not in raw, page
        assert "<script>alert" not in raw, page
        assert len(parse(page).xpath("//script")) == (1 if page.name == "index.html" else 0)
    oathtool_case = next(c for c in build_sample_run().cases if c.subject == "oathtool")
    raw = (report / "cases" / f"{views.case_slug(oathtool_case.id)}.html").read_text("utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in raw
    doc = parse(report / "cases" / f"{views.case_slug(oathtool_case.id)}.html")
    assert doc.xpath('//pre[@id="reason"]')[0].text_content() == f"adapter crashed {HOSTILE}"


def test_evidence_json_pretty_images_inline_binary_downloadable(report):
    run = build_sample_run()
    hotp_ref = next(c for c in run.cases if c.case == "hotp" and c.subject == "reference-pskc")
    doc = parse(report / "cases" / f"{views.case_slug(hotp_ref.id)}.html")
    assert doc.xpath("//section[@class='evidence']//pre")[0].text_content() == (
        '{\n  "op": "otp.hotp",\n  "answer": {\n    "otp": "755224"\n  }\n}'
    )
    timing = next(c for c in run.cases if c.case == "timing")
    page = report / "cases" / f"{views.case_slug(timing.id)}.html"
    doc = parse(page)
    images = doc.xpath("//img/@src")
    assert len(images) == 2
    assert (page.parent / images[0]).read_bytes() == PNG_1X1
    assert (page.parent / images[1]).read_text("utf-8") == SVG_PLOT
    assert "<svg" not in page.read_text("utf-8")  # SVG only via <img>, never inlined
    downloads = [a for a in doc.xpath("//a[@download]/@href") if a not in images]
    assert len(downloads) == 1 and (page.parent / downloads[0]).read_bytes() == b"\x00\x01binary\xff"


def test_pairwise_grid(report):
    doc = parse(report / "index.html")
    (grid,) = doc.xpath('//table[contains(@class, "pairwise")]')
    assert (grid.get("data-suite"), grid.get("data-rows"), grid.get("data-columns")) == (
        "pskc-interop", "pskc-producer", "pskc-consumer")
    body = [[" ".join(td.text_content().split()) for td in tr.xpath("./th|./td")] for tr in grid.xpath(".//tr")]
    assert body == [
        ["pskc-producer \\ pskc-consumer", "python-pskc", "reference-pskc"],
        ["python-pskc", "0/1 worst: xfail", "1/1 worst: pass"],
        ["reference-pskc", "1/2 worst: fail MUST", "1/1 worst: pass"],
    ]


def test_summary_and_suite_counts(report):
    doc = parse(report / "index.html")
    counts = {td.get("data-outcome"): int(td.text) for td in doc.xpath('//table[@id="outcome-counts"]//td[@data-outcome]')}
    assert counts == {"pass": 6, "fail": 1, "unsupported": 1, "skip": 1, "xfail": 1, "xpass": 1, "error": 1}
    rows = {tr.get("data-suite"): [td.text_content() for td in tr.xpath("./td")][1:] for tr in doc.xpath('//table[@id="suite-counts"]//tr[@data-suite]')}
    # columns: pass fail unsupported skip xfail xpass error total
    assert rows == {
        "lab-selftest": ["1", "0", "0", "0", "0", "0", "0", "1"],
        "otp-vectors": ["2", "0", "1", "1", "0", "1", "1", "6"],
        "pskc-interop": ["3", "1", "0", "0", "1", "0", "0", "5"],
    }
    adapters = doc.xpath('//table[@id="adapters-table"]')[0].text_content()
    for needle in ["reference-pskc", "oathtool", "crash", "pskc-producer, pskc-consumer", "hotp, totp", "third party"]:
        assert needle in adapters
    text = doc.text_content()
    for needle in ["0.1.0", "3.11.7", "Linux-test", "42.50 s", "quick"]:
        assert needle in text


def test_no_external_resources(report):
    for page in [report / "index.html", *(report / "cases").glob("*.html")]:
        doc = parse(page)
        refs = doc.xpath("//@src|//@href")
        assert not [r for r in refs if re.match(r"^[a-z]+://|^//", r)], page
        assert not doc.xpath("//link[@rel='stylesheet']|//script[@src]")
        assert not [tr for tr in doc.xpath("//tr") if tr.get("hidden") is not None]  # all visible without JS


def test_slugs_are_filesystem_safe_and_unique():
    ids = ["s/A", "s/a", "s/a b", "s/a/b", "s/a..b", "../../etc/passwd", "s/ünï", "s/" + "x" * 500, "s/x[p=a,q=b]", "s/x[p=a;q=b]"]
    slugs = views.assign_slugs([case("s", i, Outcome.PASS) for i in ids])
    assert len(set(slugs)) == len(ids)
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug) and len(slug) <= 100 and ".." not in slug
    assert len({s.lower() for s in slugs}) == len(ids)  # case-insensitive filesystems


def test_duplicate_ids_still_get_distinct_pages(tmp_path):
    run = RunResult(run=run_meta(), cases=[case("s", "a", Outcome.PASS), case("s", "a", Outcome.FAIL)])
    render_html(run, tmp_path / "r")
    assert len(list((tmp_path / "r" / "cases").glob("*.html"))) == 2


def test_rerender_replaces_report_and_leaves_no_temp_dirs(tmp_path):
    render_html(build_sample_run(), tmp_path / "html")
    smaller = RunResult(run=run_meta("run-2"), cases=[case("s", "only", Outcome.PASS)])
    render_html(smaller, tmp_path / "html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["html"]
    assert len(list((tmp_path / "html" / "cases").glob("*.html"))) == 1
    assert "run-2" in (tmp_path / "html" / "index.html").read_text("utf-8")


def test_failed_render_keeps_old_report(tmp_path, monkeypatch):
    render_html(build_sample_run(), tmp_path / "html")
    before = (tmp_path / "html" / "index.html").read_text("utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash while rendering")

    monkeypatch.setattr(html_report.views, "build_pairwise", boom)
    with pytest.raises(RuntimeError):
        render_html(RunResult(run=run_meta("run-2")), tmp_path / "html")
    assert (tmp_path / "html" / "index.html").read_text("utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["html"]


def test_refuses_to_replace_a_directory_that_is_not_a_report(tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "data.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a kplab HTML report"):
        render_html(build_sample_run(), tmp_path / "precious")
    assert (tmp_path / "precious" / "data.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        render_html(build_sample_run(), tmp_path / "file")


def test_empty_run_renders(tmp_path):
    render_html(RunResult(run={}), tmp_path / "r")
    assert "No cases were run" in (tmp_path / "r" / "index.html").read_text("utf-8")


def _dump_dom(index: Path, profile: Path, timeout: float = 60.0) -> str:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--dump-dom", index.as_uri(),
    ]
    # Own session, so a hung browser is killed with all its helper processes.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not render {index} within {timeout} s")
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode("utf-8")


@pytest.mark.skipif(not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)), reason=f"{CHROMIUM} is not installed")
def test_report_renders_in_headless_chromium(report, tmp_path):
    dom = lxml.html.fromstring(_dump_dom(report / "index.html", tmp_path / "chromium-profile"))
    rows, columns, cells = matrix_of(dom)
    assert rows == EXPECTED_ROWS
    assert columns == EXPECTED_COLUMNS
    assert {key: outcomes[0] for key, (outcomes, _, _) in cells.items()} == EXPECTED_CELLS
    # The inline script ran under the page's Content-Security-Policy (hash allowed).
    assert dom.xpath('//label[@id="problem-filter"]/input[@type="checkbox"]')
