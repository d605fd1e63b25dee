"""PSKC document -> model (structure only; decryption is reference.pskc.protection).

One code path serves whole-document and streaming decoding: the document is read with
``iterparse`` and every child of <KeyContainer> is turned into model objects as soon as
its end tag is seen, then cleared and dropped from the tree.  Memory therefore holds one
<KeyPackage> at a time whatever the number of keys (RFC 6030 §8 bulk provisioning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterator

from lxml import etree

from harness.errors import SchemaViolation, UnsupportedFeature

from . import legacy
from .algorithms import DS_NS, LEGACY_NAMESPACES, PSKC_NS
from .decode_header import parse_encryption_key, parse_mac_method, parse_signature
from .decode_key import parse_key_package
from .model import EncryptionKey, KeyContainer, KeyPackage, MACMethod, RawXML, Signature
from .safexml import DEFAULT_MAX_DEPTH, Source, iter_events, to_raw, where
from .xmlread import Ctx, qname, unknown

CONTAINER_ORDER = ("EncryptionKey", "MACMethod", "KeyPackage", "Signature", "Extensions")
_LEGACY_CHILDREN = {"Device": "KeyPackage", "EncryptionMethod": "EncryptionKey", "DigestMethod": "MACMethod",
                    "MACAlgorithm": "MACMethod"}
_VERSION = re.compile(r"^([0-9]+)\.([0-9]+)$")


@dataclass
class ContainerState:
    """What is known about the container while its children stream past."""

    ctx: Ctx
    version: str | None = None
    id: str | None = None
    encryption_key: EncryptionKey | None = None
    mac_method: MACMethod | None = None
    signature: Signature | None = None
    extensions: list[RawXML] = field(default_factory=list)
    findings: list = field(default_factory=list)
    legacy_header: legacy.LegacyHeader = field(default_factory=legacy.LegacyHeader)
    packages_seen: int = 0
    _order: int = -1

    def header(self, key_packages: tuple[KeyPackage, ...] = ()) -> KeyContainer:
        return KeyContainer(
            key_packages=key_packages, version=self.version, id=self.id, encryption_key=self.encryption_key,
            mac_method=self.mac_method, signature=self.signature, extensions=tuple(self.extensions),
            dialect=self.ctx.dialect, findings=tuple(self.findings),
        )


def _check_version(ctx: Ctx, root: etree._Element, version: str | None) -> None:
    """RFC 6030 §1.2 and §4 'Version'; schema VersionType \\d{1,2}\\.\\d{1,3}."""
    if version is None:
        ctx.flag("pskc.missing-version", "<KeyContainer> without the required Version attribute", "RFC 6030 §4",
                 root)
        return
    match = _VERSION.match(version.strip())
    if match is None:
        if re.fullmatch(r"[0-9]+", version.strip()):
            ctx.flag("pskc.version-syntax", f"Version {version!r} lacks the minor number", "RFC 6030 §1.2; §11",
                     root)
            major, minor = int(version), 0
        else:
            raise SchemaViolation(f"Version {version!r} is not <major>.<minor>", status="pskc.version-syntax",
                                  spec="RFC 6030 §1.2", where=where(root))
    else:
        major, minor = int(match.group(1)), int(match.group(2))
        if match.group(1) != str(major) or match.group(2) != str(minor):
            ctx.flag("pskc.version-leading-zero", f"Version {version!r} has leading zeros (MUST NOT be sent)",
                     "RFC 6030 §1.2", root)
    if major != 1:
        raise UnsupportedFeature(f"PSKC version {version} is not supported (only 1.x)",
                                 status="pskc.unsupported-version", spec="RFC 6030 §1.2, §12.5", where=where(root))
    if minor != 0:
        # §1.2: a higher minor number "MUST be ignored by an entity with a smaller minor
        # version number", so a 1.0 reader reads 1.x.  python-pskc refuses it instead.
        ctx.flag("pskc.newer-minor-version", f"Version {version} is newer than 1.0; read as 1.0",
                 "RFC 6030 §1.2", root, "note")


def start_container(root: etree._Element) -> ContainerState:
    ns, local = qname(root)
    if local not in ("KeyContainer", "SecretContainer"):
        raise SchemaViolation(f"document element is <{local}>, not <KeyContainer>",
                              status="pskc.not-a-key-container", spec="RFC 6030 §4", where=where(root))
    if ns == PSKC_NS and local == "KeyContainer":
        ctx = Ctx(ns)
    elif ns in LEGACY_NAMESPACES:
        ctx = Ctx(ns, LEGACY_NAMESPACES[ns])
        ctx.flag("pskc.legacy-namespace", f"namespace {ns} of {LEGACY_NAMESPACES[ns]}, not RFC 6030",
                 "RFC 6030 §1.3.1", root, "legacy")
    else:
        raise SchemaViolation(f"<{local}> in namespace {ns!r} is not a PSKC container",
                              status="pskc.unknown-namespace", spec="RFC 6030 §1.3.1", where=where(root))
    state = ContainerState(ctx)
    state.version = root.get("Version") if ctx.dialect == "rfc6030" else root.get("Version", root.get("version"))
    if ctx.dialect == "rfc6030":
        _check_version(ctx, root, state.version)
    state.id = root.get("Id")
    for attribute in ("id", "ID"):
        if state.id is None and root.get(attribute) is not None:
            state.id = root.get(attribute)
            ctx.flag("pskc.id-spelling", f"container attribute {attribute!r}; the schema attribute is 'Id'",
                     "RFC 6030 §4; §11 (RFC 6030 Figure 8 has this error)", root)
    for attribute in root.attrib:
        if attribute not in ("Version", "Id", "id", "ID", "version") and not attribute.startswith(
                "{http://www.w3.org/2001/XMLSchema-instance}"):
            ctx.flag("pskc.unknown-attribute", f"unexpected attribute {attribute} on <KeyContainer>",
                     "RFC 6030 §11", root)
    state.findings.extend(ctx.take())
    return state


def _note_order(state: ContainerState, name: str, element: etree._Element) -> None:
    index = CONTAINER_ORDER.index(name)
    if index < state._order:
        state.ctx.flag("pskc.element-order", f"<{etree.QName(element).localname}> out of schema order in "
                       "<KeyContainer>", "RFC 6030 §11", element)
    state._order = max(state._order, index)


def read_child(state: ContainerState, element: etree._Element) -> list[KeyPackage]:
    """Turn one child of <KeyContainer> into model objects; returns new key packages."""
    ctx = state.ctx
    if not isinstance(element.tag, str):
        return []
    ns, local = qname(element)
    name = ctx.local(element)
    if name in _LEGACY_CHILDREN:
        _note_order(state, _LEGACY_CHILDREN[name], element)
        if ctx.dialect == "rfc6030":
            ctx.dialect = "draft-ietf-keyprov-pskc-02"
        packages: list[KeyPackage] = []
        if name == "Device":
            packages = legacy.parse_device(ctx, element, state.legacy_header)
        elif name == "EncryptionMethod":
            state.encryption_key = state.encryption_key or legacy.parse_encryption_method(
                ctx, element, state.legacy_header)
        elif state.mac_method is None:
            state.mac_method = legacy.parse_digest_method(ctx, element)
        return _finish_child(state, packages)
    if name == "KeyPackage":
        _note_order(state, name, element)
        return _finish_child(state, parse_key_package(ctx, element))
    if name in ("EncryptionKey", "MACMethod") or (local == "Signature" and (name or ns == DS_NS)):
        _note_order(state, local, element)
        target = {"EncryptionKey": "encryption_key", "MACMethod": "mac_method", "Signature": "signature"}[local]
        if getattr(state, target) is not None:
            ctx.flag("pskc.duplicate-element", f"<{local}> repeated in <KeyContainer>; the first is used",
                     "RFC 6030 §11", element)
        else:
            parser = {"EncryptionKey": parse_encryption_key, "MACMethod": parse_mac_method,
                      "Signature": parse_signature}[local]
            setattr(state, target, parser(ctx, element))
    elif name == "Extensions":
        _note_order(state, name, element)
        state.extensions.append(to_raw(element))
    else:
        state.extensions.append(unknown(ctx, element, "KeyContainer"))
    return _finish_child(state, [])


def _finish_child(state: ContainerState, packages: list[KeyPackage]) -> list[KeyPackage]:
    found = state.ctx.take()
    if not packages:
        state.findings.extend(found)
        return []
    state.packages_seen += len(packages)
    if not found:  # the common case: nothing to attach, no copy
        return packages
    return [replace(packages[0], findings=found)] + packages[1:]


def finish_container(state: ContainerState) -> None:
    if state.packages_seen == 0:
        state.findings.append(
            _finding(state, "pskc.no-key-package", "container without <KeyPackage>", "RFC 6030 §3 item 1; §11"))


def _finding(state: ContainerState, code: str, message: str, spec: str):
    state.ctx.flag(code, message, spec)
    return state.ctx.take()[0]


def stream(
    source: Source, *, max_bytes: int | None, max_depth: int = DEFAULT_MAX_DEPTH,
) -> Iterator[tuple[ContainerState, KeyPackage | None]]:
    """Yield (state, key package) as the document is read, then (final state, None).

    The final state also holds what follows the key packages (Signature, Extensions).
    """
    state: ContainerState | None = None
    refused: Exception | None = None
    root = None
    for event, element, depth in iter_events(source, max_bytes=max_bytes, max_depth=max_depth):
        if depth == 1 and event == "start":
            root = element
            try:
                state = start_container(element)
            except (SchemaViolation, UnsupportedFeature) as exc:
                # Keep reading: a document that is not even well-formed must be
                # reported as MalformedInput, which only the parser can tell.
                refused = exc
        elif depth == 2 and event == "end":
            if state is not None:
                for package in read_child(state, element):
                    yield state, package
            # Drop what has been read: keeps memory flat for bulk containers.
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del root[0]
        elif depth == 1 and event == "end" and state is not None:
            finish_container(state)
    if refused is not None:
        raise refused
    if state is None:  # pragma: no cover - iter_events raises on empty documents
        raise SchemaViolation("no document element", status="pskc.not-a-key-container", spec="RFC 6030 §4")
    yield state, None


def read_container(source: Source, *, max_bytes: int | None, max_depth: int = DEFAULT_MAX_DEPTH) -> KeyContainer:
    """Whole document -> KeyContainer (values still as written: plain or encrypted)."""
    packages: list[KeyPackage] = []
    final: ContainerState | None = None
    for final, package in stream(source, max_bytes=max_bytes, max_depth=max_depth):
        if package is not None:
            packages.append(package)
    assert final is not None
    return final.header(tuple(packages))
