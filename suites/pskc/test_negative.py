"""PSKC negative cases: every consumer must refuse damaged or hostile containers.

Each case starts from an RFC 6030 example (vectors/pskc/rfc6030: Figure 6 pre-shared
AES-128-CBC + HMAC-SHA1, Figure 7 PBKDF2, Figure 3 plaintext) and breaks one thing.  A
clean refusal passes.  Returning keys fails; returning a *wrong* secret without a word is
the worst case and says so.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Callable

import pytest
from lxml import etree

from harness import evidence
from harness.cases import case, require
from harness.errors import KplabError, Refused
from harness.roles.pskc import PskcConsumer
from harness.vectors import vector_path

NS = {"pskc": "urn:ietf:params:xml:ns:keyprov:pskc", "xenc": "http://www.w3.org/2001/04/xmlenc#"}
PSK = "12345678901234567890123456789012"  # RFC 6030 §6.1 Figure 6
TRUE_SECRET = "3132333435363738393031323334353637383930"


def _tree(figure: str) -> etree._ElementTree:
    return etree.parse(str(vector_path(f"pskc/rfc6030/{figure}")), etree.XMLParser(resolve_entities=False, no_network=True))


def _b64_edit(element: etree._Element, edit: Callable[[bytes], bytes]) -> None:
    element.text = base64.b64encode(edit(base64.b64decode("".join(element.text.split())))).decode()


def _flip_last(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0x01])


def _secret_cipher(tree: etree._ElementTree) -> etree._Element:
    return tree.find(".//pskc:Secret/pskc:EncryptedValue/xenc:CipherData/xenc:CipherValue", NS)


def tampered_mac(t):  # noqa: ANN001
    _b64_edit(t.find(".//pskc:Secret/pskc:ValueMAC", NS), _flip_last)


def truncated_ciphertext(t):  # noqa: ANN001
    _b64_edit(_secret_cipher(t), lambda raw: raw[:-16])


def corrupted_last_block(t):  # noqa: ANN001  - breaks the CBC padding of the secret
    _b64_edit(_secret_cipher(t), lambda raw: raw[:-17] + bytes([raw[-17] ^ 0x55]) + raw[-16:])


def wrong_iv(t):  # noqa: ANN001  - the IV is the first block of CipherValue (§6.1)
    _b64_edit(_secret_cipher(t), lambda raw: bytes([raw[0] ^ 0x80]) + raw[1:])


def missing_value_mac(t):  # noqa: ANN001
    mac = t.find(".//pskc:Secret/pskc:ValueMAC", NS)
    mac.getparent().remove(mac)


def unknown_cipher(t):  # noqa: ANN001
    method = t.find(".//pskc:Secret/pskc:EncryptedValue/xenc:EncryptionMethod", NS)
    method.set("Algorithm", "urn:example:keyprov-lab:no-such-cipher")


def unknown_mac(t):  # noqa: ANN001
    t.find(".//pskc:MACMethod", NS).set("Algorithm", "urn:example:keyprov-lab:no-such-mac")


def duplicate_ids(t):  # noqa: ANN001
    package = t.find(".//pskc:KeyPackage", NS)
    package.addnext(etree.fromstring(etree.tostring(package)))


def key_without_id(t):  # noqa: ANN001
    del t.find(".//pskc:Key", NS).attrib["Id"]


def no_key_package(t):  # noqa: ANN001
    for package in t.findall(".//pskc:KeyPackage", NS):
        package.getparent().remove(package)


def major_version_2(t):  # noqa: ANN001
    t.getroot().set("Version", "2.0")


@dataclass(frozen=True)
class Damage:
    name: str
    figure: str
    edit: Callable[[etree._ElementTree], None] | None
    secrets: dict[str, str]
    spec: str
    level: str

    @property
    def case_id(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Damage({self.name})"


FIG6 = {"key_hex": PSK}
DAMAGES = [
    Damage("tampered-valuemac", "figure6.xml", tampered_mac, FIG6, "RFC 6030 §6.1.1", "MUST"),
    Damage("wrong-preshared-key", "figure6.xml", None, {"key_hex": "00" * 16}, "RFC 6030 §6.1", "MUST"),
    Damage("wrong-password", "figure7.xml", None, {"password": "qwertz"}, "RFC 6030 §6.2", "MUST"),
    Damage("truncated-ciphertext", "figure6.xml", truncated_ciphertext, FIG6, "RFC 6030 §6.1.1", "MUST"),
    Damage("bad-padding", "figure6.xml", corrupted_last_block, FIG6, "RFC 6030 §6.1.1", "MUST"),
    Damage("wrong-iv", "figure6.xml", wrong_iv, FIG6, "RFC 6030 §6.1", "MUST"),
    Damage("missing-valuemac", "figure6.xml", missing_value_mac, FIG6, "RFC 6030 §6.1.1", "SHOULD"),
    Damage("unknown-cipher-uri", "figure6.xml", unknown_cipher, FIG6, "RFC 6030 §6.1", "MUST"),
    Damage("unknown-mac-uri", "figure6.xml", unknown_mac, FIG6, "RFC 6030 §6.1.1", "MUST"),
    Damage("duplicate-key-ids", "figure3.xml", duplicate_ids, {}, "RFC 6030 §4.1 (Id)", "SHOULD"),
    Damage("key-without-id", "figure3.xml", key_without_id, {}, "RFC 6030 §4.1, §11", "SHOULD"),
    Damage("no-key-package", "figure3.xml", no_key_package, {}, "RFC 6030 §3", "SHOULD"),
    Damage("major-version-2", "figure3.xml", major_version_2, {}, "RFC 6030 §1.2", "SHOULD"),
]


def _document(damage: Damage) -> bytes:
    tree = _tree(damage.figure)
    if damage.edit is not None:
        damage.edit(tree)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _check_refused(consumer, damage: Damage) -> None:  # noqa: ANN001
    require(consumer, "pskc.decode")
    evidence.secret(bytes.fromhex(TRUE_SECRET))
    for value in damage.secrets.values():
        evidence.secret(value)
    document = _document(damage)
    evidence.attach("file", f"{damage.name}.pskcxml", document, "application/xml")
    try:
        keys = PskcConsumer(consumer).decode(document, damage.secrets)
    except Refused:
        return
    secrets = {k.get("secret_hex") for k in keys}
    if any(s and s != TRUE_SECRET for s in secrets):
        pytest.fail(f"imported a WRONG secret silently from a container with {damage.name}")
    pytest.fail(f"accepted a container with {damage.name} ({len(keys)} key(s) imported)")


def _cases(level: str) -> list[Damage]:
    return [d for d in DAMAGES if d.level == level]


@case("refuse-must", spec="RFC 6030 §6", level="MUST", subject="pskc_consumer")
@pytest.mark.parametrize("damage", _cases("MUST"), ids=lambda d: d.name)
def test_refuse_must(pskc_consumer, damage):
    _check_refused(pskc_consumer, damage)


@case("refuse-should", spec="RFC 6030 §1.2, §3, §4.1", level="SHOULD", subject="pskc_consumer")
@pytest.mark.parametrize("damage", _cases("SHOULD"), ids=lambda d: d.name)
def test_refuse_should(pskc_consumer, damage):
    _check_refused(pskc_consumer, damage)


@case("refuse-unaligned-key-wrap", spec="RFC 6030 §6.1 (RFC 3394 §2)", level="SHOULD", subject="pskc_producer")
@pytest.mark.parametrize("algorithm", ["kw-aes128", "kw-aes256"])
def test_refuse_unaligned_key_wrap(pskc_producer, algorithm):
    """Asked to wrap a 20-octet HOTP secret with RFC 3394 key wrap, a producer must refuse
    (or use a padding variant under its own URI, RFC 5649): a padded value labelled with
    the plain kw-aes URI cannot be unwrapped by a conforming consumer."""
    from harness.roles.pskc import PskcProducer, Protection
    from reference import pskc

    require(pskc_producer, "pskc.encode", f"pskc.protect.psk.{algorithm}")
    evidence.secret(bytes.fromhex(TRUE_SECRET))
    evidence.secret(bytes.fromhex(PSK))
    spec = {"id": "KPLAB-KW-1", "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc:hotp", "secret_hex": TRUE_SECRET}
    try:
        document = PskcProducer(pskc_producer).encode([spec], Protection("psk", algorithm, key_hex=PSK))
    except Refused:
        return
    evidence.attach("file", "container.pskcxml", document, "application/xml")
    try:
        container = pskc.decode(document, key=bytes.fromhex(PSK), strict=True)
    except KplabError as exc:
        pytest.fail(f"wrote a {algorithm} value that RFC 3394 cannot carry: {exc}")
    got = [pskc.decoded_fields(p).get("secret_hex") for p in container.key_packages]
    if got != [TRUE_SECRET]:  # not an assert: its explanation would print the secrets
        pytest.fail(f"the {algorithm} value does not unwrap to the 20-octet secret")
