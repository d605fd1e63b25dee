"""Static HTML report of a run: index.html (summary, interop matrix, pairwise grids,
per-suite counts) and one page per case with its evidence.

The report opens from disk: no server, no external CSS/JS/fonts.  Everything user- or
implementation-supplied goes through Jinja2 autoescaping; SVG evidence is shown with
``<img>`` (which never runs scripts inside the SVG), never inlined into the page.  A
Content-Security-Policy admits only the one inline script, by hash.

Writing is all-or-nothing: the report is rendered into a temp dir next to ``out_dir``
and renamed into place.  Only a directory that is empty or holds a previous report (it
has the marker file) is replaced, so a mistyped ``out_dir`` cannot wipe other data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from harness.errors import InputError
from harness.reports import views
from harness.results import CaseResult, Evidence, Outcome, RunResult

MARKER = ".kplab-html-report"
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/svg+xml", "image/jpeg", "image/gif", "image/webp"})
_FILE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

# Progressive enhancement: without it every row simply stays visible.
FILTER_SCRIPT = """
(function () {
  var table = document.getElementById("interop-matrix");
  if (!table) { return; }
  var label = document.createElement("label");
  label.id = "problem-filter";
  var box = document.createElement("input");
  box.type = "checkbox";
  label.appendChild(box);
  label.appendChild(document.createTextNode(" show only rows with fail, xpass or error"));
  table.parentNode.insertBefore(label, table);
  box.addEventListener("change", function () {
    var rows = table.querySelectorAll("tr.all-good");
    for (var i = 0; i < rows.length; i++) { rows[i].hidden = box.checked; }
  });
})();
"""


def _csp(script: str | None) -> str:
    scripts = f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'" if script else "'none'"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file: data:; "
        f"script-src {scripts}; base-uri 'none'; form-action 'none'"
    )


@dataclass(frozen=True)
class EvidenceView:
    index: int
    item: Evidence
    mode: str  # text | image | download
    text: str | None = None  # what to show pre-formatted (escaped by the template)
    href: str | None = None  # relative to the case page
    size: int = 0
    note: str = ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness", "reports/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = _seconds
    return env


def _seconds(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if number < 1:
        return f"{number * 1000:.1f} ms"
    if number < 120:
        return f"{number:.2f} s"
    return f"{int(number // 60)} min {number % 60:.0f} s"


def _file_name(index: int, item: Evidence) -> str:
    stem = _FILE_UNSAFE.sub("-", item.name).strip("-.")[:60] or item.kind or "evidence"
    extension = mimetypes.guess_extension(item.media_type.split(";")[0].strip()) or ".bin"
    if stem.lower().endswith(extension):
        stem = stem[: -len(extension)]
    return f"{index}-{stem}{extension}"


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


def _evidence_views(case_slug: str, case: CaseResult, cases_dir: Path) -> list[EvidenceView]:
    """Prepare each evidence item; binary and image items are written next to the page."""
    out: list[EvidenceView] = []
    for index, item in enumerate(case.evidence, start=1):
        media = item.media_type.split(";")[0].strip().lower()
        if item.encoding == "base64":
            try:
                data = base64.b64decode(item.content, validate=True)
            except (binascii.Error, ValueError):
                out.append(EvidenceView(index, item, "text", item.content, note="content is not valid base64; shown as stored"))
                continue
        else:
            data = item.content.encode("utf-8")
            if media not in INLINE_IMAGE_TYPES:
                is_json = media == "application/json" or media.endswith("+json")
                out.append(EvidenceView(index, item, "text", _pretty_json(item.content) if is_json else item.content, size=len(data)))
                continue
        relative = f"files/{case_slug}/{_file_name(index, item)}"
        target = cases_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if media in INLINE_IMAGE_TYPES:
            source = item.content if item.encoding == "utf-8" else None
            out.append(EvidenceView(index, item, "image", source, href=relative, size=len(data)))
        else:
            out.append(EvidenceView(index, item, "download", href=relative, size=len(data)))
    return out


def _probe_class(outcome: str) -> str:
    return "ok" if outcome == "ok" else "bad"


def render_html(run: RunResult, out_dir: str | os.PathLike[str]) -> Path:
    """Write the report into ``out_dir`` (replacing a previous report there); returns the
    path of index.html.  Raises InputError when ``out_dir`` is something else."""
    target = Path(out_dir)
    _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a report is meant to be shared
        _render_into(run, staging)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / "index.html"


def _check_replaceable(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise InputError("exists and is not a directory; cannot write the HTML report there", where=str(target))
    if any(target.iterdir()) and not (target / MARKER).exists():
        raise InputError(
            "directory is not empty and is not a kplab HTML report; refusing to replace it",
            where=str(target),
        )


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename the finished report into place.  An existing report is first renamed
    aside, so at every moment ``target`` is absent, the old report or the new one."""
    if not target.exists():
        os.rename(staging, target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    parked = retired / "report"
    os.rename(target, parked)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(parked, target)
        shutil.rmtree(retired, ignore_errors=True)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _render_into(run: RunResult, root: Path) -> None:
    env = _environment()
    cases_dir = root / "cases"
    cases_dir.mkdir()
    slugs = views.assign_slugs(run.cases)
    hrefs = [f"cases/{slug}.html" for slug in slugs]
    adapters = {a.name: a for a in run.adapters}
    case_template = env.get_template("case.html")
    for case, slug in zip(run.cases, slugs):
        page = case_template.render(
            run=run,
            case=case,
            evidence=_evidence_views(slug, case, cases_dir),
            adapters=adapters,
            must_fail=views.is_must_failure(case),
            csp=_csp(None),
        )
        (cases_dir / f"{slug}.html").write_text(page, encoding="utf-8")
    must_failures = [(c, h) for c, h in zip(run.cases, hrefs) if views.is_must_failure(c)]
    index = env.get_template("index.html").render(
        run=run,
        meta=run.run,
        counts=run.counts(),
        outcomes=[o.value for o in Outcome],
        must_failures=sorted(must_failures, key=lambda item: item[0].id),
        matrix=views.build_matrix(run, hrefs),
        pairwise=views.build_pairwise(run, hrefs),
        suite_counts=views.suite_counts(run),
        selected=set(run.run.get("adapters") or []),
        probe_class=_probe_class,
        script=FILTER_SCRIPT,
        csp=_csp(FILTER_SCRIPT),
    )
    (root / "index.html").write_text(index, encoding="utf-8")
    (root / MARKER).write_text("written by harness.reports.html; this directory is replaced on re-render\n", encoding="utf-8")


__all__ = ["render_html", "MARKER"]
