"""Compare a KMIP response with the response an OASIS test case expects.

KMIP Profiles 2.1 §4: the expected responses are "illustrative"; §4.1 lists what a
conformant server MAY vary, and "other variations not explicitly noted ... SHALL be
deemed non-conformant".  :func:`compare_response` applies exactly those tolerances and
returns the first difference as a path, e.g.
``ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected ..., got ...``.

Readings (each one written down because the text leaves room):

* Placeholders (Test Cases 2.1 §2).  ``$NOW``/``$NOW±n`` must lie within
  ``tolerance_s`` of the exchange (a "reasonable appearing datum" of the current time;
  the header Time Stamp included).  ``$UNIQUE_IDENTIFIER_n`` / ``$SHORT_UNIQUE_IDENTIFIER_n``
  bind to the first value the server returns and must keep it.  Any other placeholder
  ($DATA_n, $KEY_MATERIAL_n, ...) is server output: it binds (rebinds) to the latest value.
* §4.1.1 variable items, compared for type only: Unique Batch Item ID, Asynchronous
  Correlation Value, Server/Client Correlation Value, Vendor Identification, the contents
  of Server Information and Random Number Generator; literal identifiers (items 1-3, 10);
  the dates of item 9 unless the case's requests set that very value; key material of
  server-generated or wrapped keys (item 7); Data / Signature Data / MAC Data / IV / tag
  output (item 8) of any operation on a server-generated or asymmetric key (RSA padding
  and DSA/ECDSA are randomised), of RNG Retrieve, and of Encrypt / Sign / MAC when the
  server chose the IV - except a Decrypt of ciphertext the server itself returned earlier
  in the case, which must give the expected plaintext; the Digest's hashing algorithm,
  and its value for generated keys (items 11, 13); Key Format Type of a generated key the
  request did not fix (item 12); a Name value with an added prefix (item 18).  A literal
  the server replaced is remembered, so a later request quoting it gets the server's
  value instead.
* Result Message is never compared (§4.1.1 "may or may not be included ... may vary").
* Order: attributes (2.1 Attributes, 1.x Attribute lists, Get Attribute List names) are
  unordered and may hold extra entries (§4.1.1 item 21, §4.1.2 item 5); so is Discover
  Versions' list when the request named none (response variation 5).  Locate's
  identifiers are unordered, no extras.  Query's Operation and Object Type lists are not
  compared (items 16, 17 let them vary except for what "the profile" requires, and the
  profiles' lists are not part of the test cases), nor its Extension Information and
  Application Namespaces (items 14, 15); its other lists are unordered.  Located Items,
  message extensions, vendor tags (0x54xxxx) and the 1.x Template-Attribute structures of
  server-set attributes may be added.  Everything else must come in the expected order.
* An Attribute Index of 0 equals an absent one (KMIP 1.4 §2.1.1 "SHALL be assumed to be 0").
* The response header's Protocol Version must equal the request's (the expected one is
  ignored: 1.4/optional/OMOS-O-1-14 carries a stray 1.3).
* Result Status and Reason of every batch item are compared first, then the batch items
  field by field, then the header: a refused request is reported by its status and reason.
* A request using an OPTIONAL batch option that the server rejects as a whole is flagged
  ``optional_feature`` (replay.py resends it without the option, KMIP 1.4 §6.12/§6.13).
* ``unsupported``: a batch item fails with a "not supported" reason the case does not
  expect there (Operation / Feature / Application Namespace / Key Format Type / Key
  Compression Type / Key Wrap Type Not Supported, Unsupported Attribute, Unsupported
  Cryptographic Parameters, Unsupported Protocol Version): the server lacks what the case
  exercises, which says nothing about how it does what it has.

Values are shown without key material: byte strings other than public ones (IVs,
digests, signatures, identifiers) and every Big Integer appear as a size and
:func:`harness.redaction.fingerprint`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from reference.kmip.placeholders import Placeholder
from reference.kmip.tags import KmipTables, tables_for
from reference.kmip.ttlv import Item, ItemType
from reference.kmip.variations import (
    ASYMMETRIC_TYPES, CRYPTO_OUTPUT_TAGS, DATE_TAGS, EXTRA_TAGS, GENERATING_OPS, ID_PLACEHOLDERS, ID_TAGS, IGNORED_TAGS,
    KEY_TAGS, NOW_TOLERANCE_S, OPAQUE_STRUCTURES, OPS, QUERY_IGNORED_TAGS, STOP, SUCCESS, T, UNSUPPORTED_REASONS,
    VALUE_FREE_TAGS, VARIABLE_OUTPUT_OPS, clip, show_value,
)

@dataclass(frozen=True)
class Difference:
    """The first field where the actual response departs from the expected one."""

    path: str
    detail: str
    unsupported: bool = False
    optional_feature: bool = False  # a whole-request rejection of a request using an OPTIONAL header feature

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass
class CaseState:
    """What a test case has learned from the server's responses so far."""

    bound: dict[str, tuple[ItemType, object]] = field(default_factory=dict)  # placeholder text -> value
    latest: dict[tuple[int, ItemType], object] = field(default_factory=dict)  # last returned value by tag
    aliases: dict[tuple[ItemType, object], object] = field(default_factory=dict)  # expected literal -> actual
    generated: set[str] = field(default_factory=set)  # ids of objects the server generated
    asymmetric: set[str] = field(default_factory=set)  # ids of public/private keys and certificates
    request_times: set[int] = field(default_factory=set)  # Date-Time values the requests sent
    id_placeholder: str | None = None  # KMIP 1.4 §4 ID Placeholder: the last id returned in this batch
    served: set[bytes] = field(default_factory=set)  # crypto output the server returned (Data, ...)

    def copy(self) -> CaseState:
        return CaseState(dict(self.bound), dict(self.latest), dict(self.aliases), set(self.generated),
                         set(self.asymmetric), set(self.request_times), self.id_placeholder, set(self.served))

    def restore(self, other: CaseState) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(other, f.name))


@dataclass(frozen=True)
class _Ctx:
    op: int | None = None
    request: Item | None = None  # request payload of the batch item being compared
    hint: int | None = None  # tag an Attribute Value stands for (1.x Attribute Name)
    variable_output: bool = False
    variable_key: bool = False
    variable_format: bool = False
    variable_digest: bool = False
    generated_target: bool = False


def compare_response(
    expected: Item,
    actual: Item,
    state: CaseState,
    *,
    request: Item,
    version: tuple[int, int],
    window: tuple[float, float],
    tolerance_s: float = NOW_TOLERANCE_S,
    optional_rule: bool = True,
) -> Difference | None:
    """First difference of ``actual`` from ``expected`` (None: they agree), binding
    placeholders into ``state``.  ``request`` is the request as sent (placeholders
    resolved); ``window`` the clock times (POSIX seconds) the exchange started and ended.
    With ``optional_rule``, a request using an OPTIONAL header feature (Batch Error
    Continuation Option other than Stop, Batch Order Option true) that the server rejects
    as a whole gives a Difference with ``optional_feature`` set: the caller confirms that the
    feature was the cause (see replay.py) and otherwise compares again without the rule."""
    comparer = _Comparer(tables_for(version), state, request, window, tolerance_s)
    comparer.optional_rule = optional_rule
    return comparer.message(expected, actual)


class _Comparer:
    def __init__(self, tables: KmipTables, state: CaseState, request: Item, window: tuple[float, float],
                 tolerance_s: float) -> None:
        self.tables, self.state, self.request = tables, state, request
        self.window, self.tolerance_s = window, tolerance_s
        self.optional_rule = True

    # ------------------------------------------------------------------ display
    def name(self, tag: int) -> str:
        info = self.tables.tag(tag)
        return info.xml_name if info is not None else f"0x{tag:06X}"

    def show(self, item: Item, hint: int | None = None) -> str:
        return show_value(item, self.tables, hint)

    # ------------------------------------------------------------------ message level
    def message(self, exp: Item, act: Item) -> Difference | None:
        path = "ResponseMessage"
        self.state.id_placeholder = None  # "only valid ... during the execution of a batch" (1.4 §4)
        if act.tag != T.ResponseMessage or act.type is not ItemType.STRUCTURE:
            return Difference(path, f"expected a ResponseMessage structure, got {self.name(act.tag)} ({act.type.xml_name})")
        exp_items, act_items = exp.find_all(T.BatchItem), act.find_all(T.BatchItem)
        req_items = self.request.find_all(T.BatchItem)
        optional = self._optional_header_features() if self.optional_rule else ""
        if optional and exp_items and act_items and all(_status(i) != SUCCESS for i in act_items) \
                and _status(exp_items[0]) == SUCCESS:
            first = act_items[0]
            return Difference(f"{path}/BatchItem[0]/ResultStatus",
                              f"the server rejects the whole request that uses {optional} (support OPTIONAL, "
                              f"KMIP 1.4 §6.12/§6.13: 'the entire request SHALL be rejected'): {self._status_text(first)}",
                              unsupported=True, optional_feature=True)
        pairs = list(zip(exp_items, act_items))
        # Status first, over all batch items: a "not supported" answer anywhere decides (the
        # rest of the message depends on it), then the first other status difference.
        statuses = [self.status(e, a, f"{path}/BatchItem[{i}]") for i, (e, a) in enumerate(pairs)]
        found = [d for d in statuses if d is not None]
        if found:
            return next((d for d in found if d.unsupported), found[0])
        for i, e in enumerate(exp_items):
            where = f"{path}/BatchItem[{i}]"
            if i >= len(act_items):
                return Difference(where, f"missing (the response has {len(act_items)} batch item(s))")
            diff = self.batch_item(e, act_items[i], req_items[i] if i < len(req_items) else None, where)
            if diff is not None:
                return diff
        if len(act_items) > len(exp_items):
            return Difference(f"{path}/BatchItem[{len(exp_items)}]", "unexpected batch item")
        if act.find(T.ResponseHeader) is None:
            return Difference(f"{path}/ResponseHeader", "missing")
        rest_exp = [self._header_with_request_version(c) if c.tag == T.ResponseHeader else c
                     for c in exp.items if c.tag != T.BatchItem]
        rest_act = [c for c in act.items if c.tag != T.BatchItem]
        return self.structure(Item.structure(exp.tag, rest_exp), Item.structure(act.tag, rest_act), path, _Ctx())

    def _optional_header_features(self) -> str:
        """Header options a server MAY not support (it then rejects the whole request)."""
        header = self.request.find(T.RequestHeader)
        if header is None:
            return ""
        used = []
        option = header.find(T.BatchErrorContinuationOption)
        if option is not None and option.value != STOP:
            used.append(f"Batch Error Continuation Option {self.show(option)}")
        order = header.find(T.BatchOrderOption)
        if order is not None and order.value is True:
            used.append("Batch Order Option true")
        return " and ".join(used)

    def _status_text(self, a: Item) -> str:
        status, reason, text = a.find(T.ResultStatus), a.find(T.ResultReason), a.find(T.ResultMessage)
        out = self.show(status) if status is not None else "no ResultStatus"
        out += f" (ResultReason {self.show(reason)}" if reason is not None else " (no ResultReason"
        return out + (f"; ResultMessage {clip(str(text.value), 160)!r})" if text is not None else ")")

    def _header_with_request_version(self, header: Item) -> Item:
        req_header = self.request.find(T.RequestHeader)
        version = req_header.find(T.ProtocolVersion) if req_header is not None else None
        if version is None:
            return header
        return Item.structure(header.tag, [version if c.tag == T.ProtocolVersion else c for c in header.items])

    def status(self, e: Item, a: Item, path: str) -> Difference | None:
        """Result Status / Reason of one batch item; "not supported" reasons the case does not
        expect make the difference ``unsupported``."""
        exp_status, act_status = e.find(T.ResultStatus), a.find(T.ResultStatus)
        if act_status is None:
            return Difference(f"{path}/ResultStatus", "missing")
        act_reason, exp_reason = a.find(T.ResultReason), e.find(T.ResultReason)
        unsupported = (act_reason is not None and act_reason.value in UNSUPPORTED_REASONS
                       and (exp_reason is None or exp_reason.value != act_reason.value))
        if exp_status is not None and exp_status.value != act_status.value:
            return Difference(f"{path}/ResultStatus", f"expected {self.show(exp_status)}, got {self._status_text(a)}",
                              unsupported)
        if exp_reason is not None and act_reason is not None and exp_reason.value != act_reason.value:
            return Difference(f"{path}/ResultReason", f"expected {self.show(exp_reason)}, got {self._status_text(a)}",
                              unsupported)
        return None

    def batch_item(self, e: Item, a: Item, req: Item | None, path: str) -> Difference | None:
        op_item = e.find(T.Operation)
        if op_item is None and req is not None:
            op_item = req.find(T.Operation)
        op = op_item.value if op_item is not None and isinstance(op_item.value, int) else None
        payload = req.find(T.RequestPayload) if req is not None else None
        ctx = self._batch_context(op, payload, e, a)
        diff = self.structure(e, a, path, ctx)
        if diff is None:
            self._learn(op, payload, a)
        return diff

    def _batch_context(self, op: int | None, payload: Item | None, e: Item, a: Item) -> _Ctx:
        target_item = payload.find(T.UniqueIdentifier) if payload is not None else None
        target = target_item.value if target_item is not None else self.state.id_placeholder
        generated = target in self.state.generated
        asymmetric = target in self.state.asymmetric
        # §4.1.1 item 8: output "where the managed object is generated by the server" or "the
        # operation inherently contains variable output" (random IV, RSA padding, DSA/ECDSA,
        # RNG).  Exception: input the server itself produced earlier in the case (its own
        # ciphertext sent back for Decrypt) must give the expected plaintext.
        server_iv = (payload is None or payload.find(T.IVCounterNonce) is None) and any(
            (p := x.find(T.ResponsePayload)) is not None and p.find(T.IVCounterNonce) is not None for x in (e, a))
        data = payload.find(T.Data) if payload is not None else None
        own_input = data is not None and data.value in self.state.served
        variable = op == OPS["RNGRetrieve"] or ((generated or asymmetric) and not own_input) or (
            op in VARIABLE_OUTPUT_OPS and server_iv)
        fixed_format = payload is not None and _contains_tag(payload, T.KeyFormatType)
        return _Ctx(op=op, request=payload, variable_output=variable, generated_target=generated,
                    variable_format=generated and not fixed_format)

    def _learn(self, op: int | None, payload: Item | None, a: Item) -> None:
        body = a.find(T.ResponsePayload)
        if body is None:
            return
        for leaf in _leaves(body):
            self.state.latest[(leaf.tag, leaf.type)] = leaf.value
            if leaf.tag in CRYPTO_OUTPUT_TAGS and isinstance(leaf.value, bytes):
                self.state.served.add(leaf.value)
        ids = {tag: body.find(tag) for tag in (T.UniqueIdentifier, T.PrivateKeyUniqueIdentifier, T.PublicKeyUniqueIdentifier)}
        values = [i.value for i in ids.values() if i is not None and isinstance(i.value, str)]
        if op in GENERATING_OPS:
            self.state.generated.update(values)
        if op == OPS["CreateKeyPair"]:
            self.state.asymmetric.update(values)
        elif op == OPS["Register"] and payload is not None:
            kind = payload.find(T.ObjectType)
            if kind is not None and kind.value in ASYMMETRIC_TYPES:
                self.state.asymmetric.update(values)
        new_id = ids[T.PrivateKeyUniqueIdentifier] if op == OPS["CreateKeyPair"] else ids[T.UniqueIdentifier]
        if op == OPS["Locate"] and len(body.find_all(T.UniqueIdentifier)) != 1:
            return
        if new_id is not None and isinstance(new_id.value, str):
            self.state.id_placeholder = new_id.value

    # ------------------------------------------------------------------ items
    def item(self, e: Item, a: Item, path: str, ctx: _Ctx) -> Difference | None:
        effective = ctx.hint if e.tag == T.AttributeValue and ctx.hint is not None else e.tag
        if e.type is not a.type:
            return Difference(path, f"expected type {e.type.xml_name}, got {a.type.xml_name} ({self.show(a, ctx.hint)})")
        if e.type is ItemType.STRUCTURE:
            return self.structure(e, a, path, ctx, effective)
        if isinstance(e.value, Placeholder):
            return self.placeholder(e.value, a, path, ctx)
        if e.value == a.value:
            return None
        if self._tolerated(e, a, effective, ctx):
            return None
        return Difference(path, f"expected {self.show(e, ctx.hint)}, got {self.show(a, ctx.hint)}")

    def _tolerated(self, e: Item, a: Item, tag: int, ctx: _Ctx) -> bool:
        if tag in VALUE_FREE_TAGS:
            return True
        if tag in DATE_TAGS:
            return e.value not in self.state.request_times
        variable = (tag in ID_TAGS or (tag in CRYPTO_OUTPUT_TAGS and ctx.variable_output)
                    or (tag in KEY_TAGS and ctx.variable_key))
        if variable:
            if e.type in (ItemType.BYTE_STRING, ItemType.TEXT_STRING):
                self.state.aliases[(e.type, e.value)] = a.value
            return True
        if tag == T.NameValue and isinstance(a.value, str) and a.value.endswith(str(e.value)):
            return True
        if tag == T.KeyFormatType and ctx.variable_format:
            return True
        return tag == T.DigestValue and ctx.variable_digest

    def placeholder(self, ph: Placeholder, a: Item, path: str, ctx: _Ctx) -> Difference | None:
        if ph.name == "NOW":
            if a.type not in (ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED):
                return Difference(path, f"expected a time for {ph.text}, got {a.type.xml_name}")
            seconds = a.value / 1_000_000 if a.type is ItemType.DATE_TIME_EXTENDED else a.value  # type: ignore[operator]
            low = self.window[0] + ph.offset - self.tolerance_s
            high = self.window[1] + ph.offset + self.tolerance_s
            if not low <= seconds <= high:  # type: ignore[operator]
                return Difference(path, f"expected {ph.text} (within {self.tolerance_s:g} s of the exchange), "
                                        f"got {self.show(a)}")
            return None
        bound = self.state.bound.get(ph.text)
        if bound is not None and ph.name in ID_PLACEHOLDERS and bound != (a.type, a.value):
            shown = self.show(Item(a.tag, bound[0], bound[1]), ctx.hint)  # type: ignore[arg-type]
            return Difference(path, f"expected {ph.text} = {shown} (bound earlier), got {self.show(a, ctx.hint)}")
        self.state.bound[ph.text] = (a.type, a.value)
        return None

    # ------------------------------------------------------------------ structures
    def structure(self, e: Item, a: Item, path: str, ctx: _Ctx, tag: int | None = None) -> Difference | None:
        tag = e.tag if tag is None else tag
        if tag in OPAQUE_STRUCTURES or (tag == T.KeyMaterial and ctx.variable_key):
            return None
        ctx = self._enter(e, a, tag, ctx)
        exp_children = self._children(e, ctx)
        act_children = self._children(a, ctx)
        exp_groups, act_groups = _groups(exp_children), _groups(act_children)
        for child_tag, exp_group in exp_groups.items():
            act_group = act_groups.get(child_tag, [])
            unordered, extras = self._mode(e.tag, child_tag, ctx)
            if unordered:
                diff = self.unordered(exp_group, act_group, path, ctx, extras, e.tag)
            else:
                diff = self.ordered(exp_group, act_group, path, ctx, extras)
            if diff is not None:
                return diff
        for child_tag, act_group in act_groups.items():
            if child_tag not in exp_groups and not self._extra_allowed(e.tag, child_tag, ctx):
                return Difference(self._child_path(path, act_group[0], 0, len(act_group)),
                                  f"unexpected field ({self.show(act_group[0], ctx.hint)})")
        if e.tag != T.Attributes:
            return self._order(exp_children, act_children, exp_groups, path)
        return None

    def _enter(self, e: Item, a: Item, tag: int, ctx: _Ctx) -> _Ctx:
        if tag == T.Attribute:
            name = e.find(T.AttributeName)
            info = self.tables.tag_by_name(name.value) if name is not None and isinstance(name.value, str) else None
            return dataclasses.replace(ctx, hint=info.value if info is not None else None)
        if tag == T.KeyBlock:
            wrapped = e.find(T.KeyWrappingData) is not None or a.find(T.KeyWrappingData) is not None
            return dataclasses.replace(ctx, variable_key=ctx.generated_target or wrapped)
        if tag == T.Digest:
            exp_alg, act_alg = e.find(T.HashingAlgorithm), a.find(T.HashingAlgorithm)
            other_alg = exp_alg is not None and act_alg is not None and exp_alg.value != act_alg.value
            return dataclasses.replace(ctx, variable_digest=ctx.generated_target or other_alg,
                                       variable_format=ctx.generated_target or ctx.variable_format)
        if ctx.hint is not None and tag != T.AttributeValue:
            return dataclasses.replace(ctx, hint=None)
        return ctx

    def _children(self, s: Item, ctx: _Ctx) -> list[Item]:
        ignored = IGNORED_TAGS | (QUERY_IGNORED_TAGS if ctx.op == OPS["Query"] and s.tag == T.ResponsePayload else frozenset())
        out = [c for c in s.items if c.tag not in ignored]
        if s.tag == T.Attribute:  # KMIP 1.4 §2.1.1: an absent Attribute Index is 0
            out = [c for c in out if not (c.tag == T.AttributeIndex and c.value == 0)]
        if s.tag == T.Digest and ctx.variable_digest:
            out = [c for c in out if c.tag != T.HashingAlgorithm]
        return out

    def _mode(self, parent: int, child: int, ctx: _Ctx) -> tuple[bool, bool]:
        """(unordered, extras allowed) for the group of ``child`` items inside ``parent``."""
        if child == T.Attribute or parent == T.Attributes:
            return True, True
        if parent == T.ResponsePayload:
            if ctx.op == OPS["GetAttributeList"] and child in (T.AttributeName, T.AttributeReference):
                return True, True
            if ctx.op == OPS["Query"]:
                return True, False
            if ctx.op == OPS["Locate"] and child == T.UniqueIdentifier:
                return True, False
            if ctx.op == OPS["DiscoverVersions"] and child == T.ProtocolVersion:
                asked = ctx.request is not None and ctx.request.find(T.ProtocolVersion) is not None
                return True, not asked
        return False, False

    def _extra_allowed(self, parent: int, child: int, ctx: _Ctx) -> bool:
        if child >> 16 == 0x54 or child in EXTRA_TAGS or parent == T.Attributes:
            return True
        return parent == T.ResponsePayload and ctx.op == OPS["Locate"] and child == T.LocatedItems

    def _child_path(self, path: str, child: Item, index: int, count: int) -> str:
        name = self.name(child.tag)
        if child.tag == T.Attribute:
            attr = child.find(T.AttributeName)
            label = attr.value if attr is not None else index
            return f"{path}/{name}[{label}]"
        if count > 1 or child.tag == T.BatchItem:
            return f"{path}/{name}[{index}]"
        return f"{path}/{name}"

    def ordered(self, exp: list[Item], act: list[Item], path: str, ctx: _Ctx, extras: bool) -> Difference | None:
        count = max(len(exp), len(act))
        for i, e in enumerate(exp):
            where = self._child_path(path, e, i, count)
            if i >= len(act):
                return Difference(where, f"missing (expected {self._describe(e, ctx)})")
            diff = self.item(e, act[i], where, ctx)
            if diff is not None:
                return diff
        if len(act) > len(exp) and not extras:
            return Difference(self._child_path(path, act[len(exp)], len(exp), count),
                              f"unexpected extra instance ({self.show(act[len(exp)], ctx.hint)})")
        return None

    def unordered(self, exp: list[Item], act: list[Item], path: str, ctx: _Ctx, extras: bool,
                  parent: int) -> Difference | None:
        """Match every expected item with a distinct actual one, in any order.  With no
        match, report the difference from the instance that stands for it (the same
        Attribute Name; in 2.1 Attributes, the same tag), else "missing"."""
        used: set[int] = set()
        count = max(len(exp), len(act))
        for i, e in enumerate(exp):
            where = self._child_path(path, e, i, count)
            nearest: Difference | None = None
            for j, a in enumerate(act):
                if j in used:
                    continue
                saved = self.state.copy()
                diff = self.item(e, a, where, ctx)
                if diff is None:
                    used.add(j)
                    break
                self.state.restore(saved)
                if nearest is None and _stands_for(e, a, parent):
                    nearest = diff
            else:
                return nearest or Difference(where, f"missing (expected {self._describe(e, ctx)})")
        if not extras and len(act) > len(used):
            j = min(set(range(len(act))) - used)
            return Difference(self._child_path(path, act[j], j, count), f"unexpected extra instance ({self.show(act[j], ctx.hint)})")
        return None

    def _describe(self, e: Item, ctx: _Ctx) -> str:
        shown = self.show(e, ctx.hint)
        if isinstance(e.value, Placeholder) and e.value.text in self.state.bound:
            btype, bvalue = self.state.bound[e.value.text]
            shown += f" = {self.show(Item(e.tag, btype, bvalue), ctx.hint)}"  # type: ignore[arg-type]
        return shown

    def _order(self, exp: list[Item], act: list[Item], groups: dict[int, list[Item]], path: str) -> Difference | None:
        want = list(dict.fromkeys(c.tag for c in exp))
        got = [t for t in dict.fromkeys(c.tag for c in act) if t in groups]
        if got != want:
            for w, g in zip(want, got):
                if w != g:
                    return Difference(f"{path}/{self.name(g)}", f"out of order: expected {self.name(w)} first "
                                                                f"(field order {', '.join(self.name(t) for t in want)})")
        return None


# ---------------------------------------------------------------------- helpers
def _groups(items: list[Item]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = {}
    for item in items:
        out.setdefault(item.tag, []).append(item)
    return out


def _stands_for(e: Item, a: Item, parent: int) -> bool:
    """Is ``a`` the instance ``e`` describes: the same Attribute Name (1.x), any item of
    the same tag inside 2.1 Attributes or a structure of the same tag."""
    if e.tag == T.Attribute:
        en, an = e.find(T.AttributeName), a.find(T.AttributeName)
        return en is not None and an is not None and en.value == an.value
    return parent == T.Attributes or e.type is ItemType.STRUCTURE


def _status(batch_item: Item) -> object:
    status = batch_item.find(T.ResultStatus)
    return status.value if status is not None else None


def _leaves(item: Item):  # type: ignore[no-untyped-def]
    if item.type is ItemType.STRUCTURE:
        for child in item.items:
            yield from _leaves(child)
    else:
        yield item


def _contains_tag(item: Item, tag: int) -> bool:
    return item.tag == tag or any(_contains_tag(c, tag) for c in item.items)
