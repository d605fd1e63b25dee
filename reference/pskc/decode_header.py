"""Container-level elements: <EncryptionKey> (§6), <MACMethod> (§6.1.1), <Signature> (§7)."""

from __future__ import annotations

from lxml import etree

from .algorithms import DS_NS, PKCS5_NS, XENC11_NS, XENC_NS, is_pbkdf2
from .model import DerivedKey, EncryptionKey, MACMethod, PBKDF2Params, RawXML, Signature
from .safexml import to_raw
from .xmlread import Ctx, parse_b64, parse_encrypted, parse_int, qname, text, unknown


def _child(element: etree._Element, local: str) -> etree._Element | None:
    """First child with this local name in any namespace (PKCS #5 children come unqualified,
    pkcs5:-qualified or xenc11:-qualified depending on the producer)."""
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname == local:
            return child
    return None


def parse_pbkdf2_params(ctx: Ctx, element: etree._Element) -> PBKDF2Params | None:
    ns = etree.QName(element).namespace
    if ns not in (PKCS5_NS, XENC11_NS):
        ctx.flag("pskc.pbkdf2-namespace", f"PBKDF2-params in namespace {ns!r}", "RFC 6030 §6.2", element)
    salt_el = _child(element, "Salt")
    specified = _child(salt_el, "Specified") if salt_el is not None else None
    count_el = _child(element, "IterationCount")
    if specified is None or count_el is None:
        ctx.flag("pskc.incomplete-key-derivation", "PBKDF2-params without Salt/Specified or IterationCount",
                 "RFC 6030 §6.2; PKCS #5 v2.0 §A.2", element)
        return None
    length_el = _child(element, "KeyLength")
    prf_el = _child(element, "PRF")
    return PBKDF2Params(
        salt=parse_b64(ctx, specified.text, specified, "PBKDF2 Salt"),
        iteration_count=parse_int(ctx, text(count_el) or "", "nonNegativeInteger", count_el, "IterationCount"),
        key_length=None if text(length_el) is None else parse_int(
            ctx, text(length_el) or "", "nonNegativeInteger", length_el, "KeyLength"),
        prf=prf_el.get("Algorithm") if prf_el is not None else None,
    )


def parse_derived_key(ctx: Ctx, element: etree._Element) -> DerivedKey:
    if etree.QName(element).namespace != XENC11_NS:
        ctx.flag("pskc.derived-key-namespace", "DerivedKey outside the XML-Enc 1.1 namespace (pre-RFC syntax)",
                 "RFC 6030 §6.2", element, "legacy")
    algorithm = None
    params = None
    references: list[str] = []
    names: dict[str, str | None] = {}
    for child in element:
        ns, name = qname(child)
        if name == "KeyDerivationMethod":
            algorithm = child.get("Algorithm")
            body = _child(child, "PBKDF2-params")
            if is_pbkdf2(algorithm):
                if body is None:
                    ctx.flag("pskc.incomplete-key-derivation", "PBKDF2 KeyDerivationMethod without PBKDF2-params",
                             "RFC 6030 §6.2", child)
                else:
                    params = parse_pbkdf2_params(ctx, body)
        elif ns == XENC_NS and name == "ReferenceList":
            references.extend(ref.get("URI", "") for ref in child if etree.QName(ref).localname == "DataReference")
        elif name in ("MasterKeyName", "DerivedKeyName", "CarriedKeyName"):
            if name == "CarriedKeyName":  # draft-ietf-keyprov-pskc-02 Figure 5
                ctx.flag("pskc.carried-key-name", "CarriedKeyName is pre-RFC syntax; read as MasterKeyName",
                         "RFC 6030 §6.2", child, "legacy")
            field = "derived_key_name" if name == "DerivedKeyName" else "master_key_name"
            names.setdefault(field, text(child))
        else:
            unknown(ctx, child, "DerivedKey")
    if algorithm is not None and not is_pbkdf2(algorithm):
        ctx.flag("pskc.unsupported-derivation", f"key derivation {algorithm!r} is not PBKDF2", "RFC 6030 §6.2",
                 element, "note")
    return DerivedKey(algorithm=algorithm, pbkdf2=params, reference_uris=tuple(references),
                      id=element.get("Id"), type=element.get("Type"), **names)


def parse_encryption_key(ctx: Ctx, element: etree._Element) -> EncryptionKey:
    names: list[str] = []
    derived = None
    certificates: list[bytes] = []
    unknowns: list[RawXML] = []
    for child in element:
        ns, name = qname(child)
        if ns == DS_NS and name == "KeyName":
            names.append(text(child) or "")
        elif name == "DerivedKey" and derived is None:
            derived = parse_derived_key(ctx, child)
        elif ns == DS_NS and name == "X509Data":
            for sub in child:
                if etree.QName(sub).localname == "X509Certificate":
                    certificates.append(parse_b64(ctx, sub.text, sub, "X509Certificate"))
            if not certificates:
                unknowns.append(to_raw(child))
        else:
            # ds:KeyInfoType admits any ds: content and ##other; keep it.
            unknowns.append(unknown(ctx, child, "EncryptionKey", allowed=ns != ctx.ns))
    return EncryptionKey(key_names=tuple(names), derived_key=derived, x509_certificates=tuple(certificates),
                         id=element.get("Id"), unknown=tuple(unknowns))


def parse_mac_method(ctx: Ctx, element: etree._Element) -> MACMethod:
    algorithm = element.get("Algorithm")
    if algorithm is None:
        ctx.flag("pskc.missing-attribute", "<MACMethod> without the required Algorithm", "RFC 6030 §6.1.1; §11",
                 element)
    mac_key = reference = None
    unknowns: list[RawXML] = []
    for child in element:
        name = ctx.local(child)
        if name == "MACKey" and mac_key is None and reference is None:
            mac_key = parse_encrypted(ctx, child, "MACKey")
        elif name == "MACKeyReference" and mac_key is None and reference is None:
            reference = text(child)
        else:
            unknowns.append(unknown(ctx, child, "MACMethod", allowed=name is None))
    return MACMethod(algorithm=algorithm, encrypted_mac_key=mac_key, mac_key_reference=reference,
                     unknown=tuple(unknowns))


def parse_signature(ctx: Ctx, element: etree._Element) -> Signature:
    if etree.QName(element).namespace != DS_NS:
        # The §11 schema declares a local pskc:Signature of ds:SignatureType (Figure 9
        # follows it); XML-DSig processors look for ds:Signature (RFC 6030 errata 3418).
        ctx.flag("pskc.signature-namespace", "<Signature> not in the ds: namespace; XML-DSig verifiers "
                 "will not find it", "RFC 6030 §7, §11; errata 3418", element, "note")
    signed_info = next((c for c in element if etree.QName(c).localname == "SignedInfo"), None)
    c14n = method = None
    digests: list[str] = []
    uris: list[str] = []
    if signed_info is not None:
        for child in signed_info:
            name = etree.QName(child).localname
            if name == "CanonicalizationMethod":
                c14n = child.get("Algorithm")
            elif name == "SignatureMethod":
                method = child.get("Algorithm")
            elif name == "Reference":
                uris.append(child.get("URI", ""))
                digest = next((d for d in child if etree.QName(d).localname == "DigestMethod"), None)
                if digest is not None:
                    digests.append(digest.get("Algorithm", ""))
    certificates = [
        parse_b64(ctx, c.text, c, "X509Certificate")
        for c in element.iter(f"{{{DS_NS}}}X509Certificate")
    ]
    return Signature(raw=to_raw(element), canonicalization_method=c14n, signature_method=method,
                     digest_methods=tuple(digests), reference_uris=tuple(uris), certificates=tuple(certificates))
