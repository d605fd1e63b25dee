"""XML Digital Signature over the whole <KeyContainer> (RFC 6030 §7, §13.2-13.3).

Signing and verification are delegated to ``signxml``; this module places the
signature where the §11 schema wants it (after the key packages, before <Extensions>),
feeds signxml only documents read by our safe parser, and maps its errors onto the lab's
exception tree.  The signature is an enveloped one with Reference URI="" so that it
"encompasses the entire PSKC" (§13.2).  Verification returns the signed bytes: decode
*those*, never the input, so content outside the signature cannot slip in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from harness.errors import CryptoFailure, InputError, UnsupportedFeature

from .algorithms import DS_NS, PSKC_NS
from .safexml import DEFAULT_MAX_BYTES, parse

SPEC = "RFC 6030 §7; XMLDSIG"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


@dataclass(frozen=True)
class SigningKey:
    """A private key (PEM bytes or key object) and its X.509 certificate (PEM)."""

    key: Any = field(repr=False)
    certificate: Any = None
    signature_algorithm: str = "rsa-sha256"
    digest_algorithm: str = "sha256"
    c14n_algorithm: str = EXC_C14N
    allow_sha1: bool = False  # RFC 6030 Figure 9 uses rsa-sha1; only for legacy test vectors


def _pem(certificate: Any) -> Any:
    if certificate is None:
        return None
    if isinstance(certificate, bytes):
        return certificate.decode("ascii")
    return certificate


def sign(document: bytes, signing: SigningKey) -> bytes:
    """Enveloped signature over the whole container; an existing one is replaced."""
    from signxml import XMLSigner, methods

    root = parse(document, max_bytes=None)
    for old in [c for c in root if etree.QName(c).localname == "Signature"]:
        root.remove(old)
    placeholder = etree.Element(f"{{{DS_NS}}}Signature", Id="placeholder")
    packages = [c for c in root if etree.QName(c).localname == "KeyPackage"]
    if packages:
        packages[-1].addnext(placeholder)
    else:
        root.append(placeholder)
    # drop pretty-print whitespace so that verification does not depend on it
    for element in root.iter():
        if element.tail is not None and not element.tail.strip():
            element.tail = None
        if len(element) and element.text is not None and not element.text.strip():
            element.text = None
    try:
        signer_class = XMLSigner
        if signing.allow_sha1:
            class _LegacySigner(XMLSigner):
                def check_deprecated_methods(self) -> None:  # signxml refuses SHA-1 by default
                    return None
            signer_class = _LegacySigner
        signer = signer_class(method=methods.enveloped, signature_algorithm=signing.signature_algorithm,
                              digest_algorithm=signing.digest_algorithm, c14n_algorithm=signing.c14n_algorithm)
        signed = signer.sign(root, key=signing.key, cert=_pem(signing.certificate))
    except Exception as exc:  # signxml raises several unrelated types for bad keys/algorithms
        raise InputError(f"cannot sign: {type(exc).__name__}: {exc}") from None
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def verify(document: bytes, *, certificate: Any = None, ca_pem_file: str | None = None,
           allow_sha1: bool = False, max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """Check the container's signature; return the signed document (what to decode).

    The returned bytes are the signed content, without the <Signature> element itself.

    ``certificate`` (PEM) is the trusted signer certificate; else ``ca_pem_file`` must
    vouch for the certificate in the signature.  SHA-1 (RFC 6030 Figure 9 uses rsa-sha1)
    is refused unless ``allow_sha1``.
    """
    from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
    from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature

    root = parse(document, max_bytes=max_bytes)
    signatures = [c for c in root if etree.QName(c).localname == "Signature"]
    if not signatures:
        raise CryptoFailure("the container carries no <Signature>", status="pskc.no-signature", spec=SPEC)
    if etree.QName(signatures[0]).namespace == PSKC_NS:
        raise CryptoFailure("<Signature> is in the PSKC namespace; an XML-DSig verifier needs ds:Signature "
                            "(RFC 6030 errata 3418)", status="pskc.signature-namespace", spec=SPEC)
    config = SignatureConfiguration(location="./", expect_references=1)
    if allow_sha1:
        config = SignatureConfiguration(
            location="./", expect_references=1,
            signature_methods=config.signature_methods | {SignatureMethod.RSA_SHA1, SignatureMethod.HMAC_SHA1},
            digest_algorithms=config.digest_algorithms | {DigestAlgorithm.SHA1})
    try:
        result = XMLVerifier().verify(root, x509_cert=_pem(certificate), ca_pem_file=ca_pem_file,
                                      expect_config=config)
    except InvalidInput as exc:
        message = str(exc)
        if "SHA1" in message.upper() or "not allowed" in message.lower() or "unsupported" in message.lower():
            raise UnsupportedFeature(f"signature algorithm refused: {message}", status="pskc.signature-algorithm",
                                     spec=SPEC) from None
        raise CryptoFailure(f"signature cannot be checked: {message}", status="pskc.bad-signature",
                            spec=SPEC) from None
    except (InvalidSignature, InvalidDigest, InvalidCertificate) as exc:
        raise CryptoFailure(f"signature does not verify: {type(exc).__name__}: {exc}", status="pskc.bad-signature",
                            spec=SPEC) from None
    signed = result.signed_xml if not isinstance(result, list) else result[0].signed_xml
    if signed is None or etree.QName(signed).localname != "KeyContainer":
        raise CryptoFailure("the signature does not cover the <KeyContainer>", status="pskc.bad-signature",
                            spec="RFC 6030 §7, §13.2")
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
