"""The readings of docs/dskpp-interpretations.md are selectable in the engines: a client and
a server that take the same alternative reading interoperate, and where the reading
changes bytes on the wire, a client and a server that differ fail - so the lab can tell
which reading a vendor took.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.errors import InputError, ProtocolError
from reference.dskpp.interpretation import (
    AcFieldOctets,
    AesPrfKey,
    CbcPadding,
    Crc16Variant,
    Interpretation,
    KeyConfirmationInput,
    KProvLength,
    MessageHashInput,
    NonceXorPrf,
    PassphraseSaltKey,
    PassphraseSource,
    Pbkdf2Prf,
    PreviousMacKey,
    PublicKeyOctets,
    RenewalMacInput,
    RenewalMacPrf,
    Sha256Block,
    SharedKeyOctets,
    TriggerAdCheck,
    TriggeredClientNonceAd,
    TwoPassEncryptionChoice,
    TwoPassNonceSource,
)
from reference.dskpp.messages import Status
from reference.dskpp.policy import ServerPolicy
from reference.dskpp.store import MemoryTokenStore

from .engine_kit import AES_CBC, KW_AES, PRF_AES, PRF_SHA256, PSK, PSK_NAME, RSA_OAEP, Lab

PSK_CLIENT = {"shared_key": PSK, "shared_key_name": PSK_NAME}


def scenario_config(name: str, device_key) -> dict:
    return {
        "four-rsa": {"encryption_algorithms": (RSA_OAEP,), "mac_algorithms": (PRF_SHA256,)},
        "four-rsa-aes": {"encryption_algorithms": (RSA_OAEP,), "mac_algorithms": (PRF_AES,)},
        "four-psk": {"encryption_algorithms": (PRF_AES,), "mac_algorithms": (PRF_SHA256,), **PSK_CLIENT},
        "four-cbc": {"encryption_algorithms": (AES_CBC,), "mac_algorithms": (PRF_SHA256,), **PSK_CLIENT},
        "two-wrap": {"variant": "two-pass", "protection": "key-wrap", "mac_algorithms": (PRF_SHA256,), **PSK_CLIENT},
        "two-wrap-kw": {"variant": "two-pass", "protection": "key-wrap", "encryption_algorithms": (KW_AES,),
                        **PSK_CLIENT},
        "two-transport": {"variant": "two-pass", "protection": "key-transport", "rsa_private_key": device_key},
        "two-passphrase": {"variant": "two-pass", "protection": "passphrase"},
        "two-named-passphrase": {"variant": "two-pass", "protection": "passphrase", "shared_key_name": "Passphrase-1",
                                 "passphrase": "correct horse"},
    }[name]


def exchange(server_key, device_key, server_interp: Interpretation, client_interp: Interpretation, scenario: str,
             *, renew: str | None = None, trigger: bool = False, certificate: bytes | None = None) -> Status:
    policy = ServerPolicy(rsa_private_key=server_key, rsa_certificate_der=certificate, shared_keys={PSK_NAME: PSK},
                          four_pass_shared_key=PSK_NAME, passphrases={"Passphrase-1": "correct horse"},
                          passphrase_wrap_iterations=10, interpretation=server_interp)
    lab = Lab(policy)
    config = {**scenario_config(scenario, device_key), "interpretation": client_interp}
    tokens = MemoryTokenStore()
    previous = None
    if renew is not None:  # first provisioning under the default-compatible settings of ``renew``
        first = {**config, **scenario_config(renew, device_key)}
        result = lab.run(lab.client(1, tokens, authentication_code=lab.issue()[0], **first))
        assert result.status is Status.SUCCESS
        previous = result.key.key_id
    if trigger:
        _, client_id = lab.issue(lab.store.get_key(previous).client_id if previous else None)
        document = lab.server.trigger(client_id=client_id)
        result = lab.run(lab.client(2, tokens, renew_key_id=previous, server_url=None, **config), trigger=document)
    else:
        ac, _ = lab.issue(lab.store.get_key(previous).client_id if previous else None)
        result = lab.run(lab.client(2, tokens, authentication_code=ac, renew_key_id=previous, **config))
    if result.status is Status.SUCCESS:
        assert tokens.get_key(result.key.key_id).secret == lab.store.get_key(result.key.key_id).secret
    return result.status


# (option changes, scenario, extra, is a server/client mismatch detected in at least one direction?)
# Some differences show in one direction only, e.g. a server under I-10 "negotiated" names
# the PRF it used in <Mac MacAlgorithm>, which a client under "mac-attribute" follows.
CASES = [
    (dict(aes_prf_key=AesPrfKey.AES_BY_KEY_LENGTH), "four-rsa-aes", {}, True),
    (dict(prf_sha256_block=Sha256Block.TRUNCATED_16), "four-rsa", {}, True),
    (dict(public_key_octets=PublicKeyOctets.PKCS1_DER), "four-rsa", {}, True),
    (dict(public_key_octets=PublicKeyOctets.MODULUS), "two-transport", {}, True),
    (dict(public_key_octets=PublicKeyOctets.CERTIFICATE_DER), "four-rsa", {"certificate": True}, True),
    (dict(shared_key_octets=SharedKeyOctets.KEY_NAME_UTF8), "four-psk", {}, True),
    (dict(k_prov_length=KProvLength.TWICE_TOKEN), "four-rsa", {}, True),
    (dict(k_prov_length=KProvLength.TWICE_TOKEN), "two-wrap", {}, True),
    (dict(key_confirmation_input=KeyConfirmationInput.NONCE_CTKIP), "four-rsa", {}, True),
    (dict(key_confirmation_input=KeyConfirmationInput.NONCE_CTKIP), "two-wrap", {}, True),
    (dict(message_hash_input=MessageHashInput.C14N), "four-rsa", {}, True),
    (dict(message_hash_input=MessageHashInput.EXC_C14N), "two-wrap", {}, True),
    (dict(message_hash_includes_trigger=True), "four-rsa", {"trigger": True}, True),
    (dict(message_hash_includes_trigger=True), "two-wrap", {"trigger": True}, True),
    (dict(renewal_mac_input=RenewalMacInput.CTKIP_MAC1_R_RS), "four-rsa", {"renew": "four-rsa"}, True),
    (dict(renewal_mac_input=RenewalMacInput.MAC2_R_RS), "four-rsa", {"renew": "four-rsa"}, False),
    (dict(renewal_mac_prf=RenewalMacPrf.NEGOTIATED), "four-rsa", {"renew": "four-rsa-aes"}, True),
    (dict(previous_mac_key=PreviousMacKey.REPLACED_K_TOKEN), "four-rsa", {"renew": "four-rsa"}, True),
    (dict(previous_mac_key=PreviousMacKey.REPLACED_K_TOKEN), "two-wrap", {"renew": "two-wrap"}, True),
    (dict(server_auth_mac_length=32), "two-wrap", {"renew": "two-wrap"}, False),  # any length >= 16 is accepted
    (dict(ac_client_id_octets=AcFieldOctets.HEX_DECODED), "four-rsa", {}, True),
    (dict(ac_password_octets=AcFieldOctets.HEX_DECODED), "two-wrap", {}, True),
    (dict(pbkdf2_prf=Pbkdf2Prf.HMAC_SHA256), "two-transport", {}, True),
    (dict(trigger_ad_check=TriggerAdCheck.RECOMPUTE), "four-rsa", {"trigger": True}, False),  # server-internal
    (dict(triggered_client_nonce_ad=TriggeredClientNonceAd.OMIT), "four-rsa", {"trigger": True}, True),
    (dict(nonce_xor_prf=NonceXorPrf.MAC_ALGORITHM), "four-psk", {}, True),
    (dict(cbc_padding=CbcPadding.PKCS7_STRICT), "four-cbc", {}, False),  # we send PKCS #7 anyway
    # R enters only the server authentication MAC (renewal) and the nonce-ctkip reading.
    (dict(two_pass_nonce_source=TwoPassNonceSource.AUTH_MAC_NONCE_ONLY), "two-wrap",
     {"trigger": True, "renew": "two-wrap"}, True),
    (dict(two_pass_nonce_source=TwoPassNonceSource.CLIENT_NONCE_ONLY), "two-wrap", {}, False),
    (dict(passphrase_salt_key=PassphraseSaltKey.OMITTED), "two-passphrase", {}, True),
    (dict(two_pass_encryption_choice=TwoPassEncryptionChoice.METHOD_DEFAULT), "two-wrap-kw", {}, True),
    (dict(passphrase_source=PassphraseSource.NAMED_PASSPHRASE), "two-named-passphrase", {}, True),
]


def _run(server_key, device_key, server_certificate, server: Interpretation, client: Interpretation, scenario, extra):
    certificate = server_certificate if extra.get("certificate") else None
    return exchange(server_key, device_key, server, client, scenario, renew=extra.get("renew"),
                    trigger=extra.get("trigger", False), certificate=certificate)


@pytest.mark.parametrize(("changes", "scenario", "extra", "mismatch_fails"), CASES,
                         ids=[f"{next(iter(c))}-{s}" for c, s, _, _ in CASES])
def test_alternative_reading_interoperates_with_itself(server_key, device_key, server_certificate, changes, scenario,
                                                       extra, mismatch_fails):
    alternative = Interpretation(**changes)
    assert _run(server_key, device_key, server_certificate, alternative, alternative, scenario, extra) is Status.SUCCESS


@pytest.mark.parametrize(("changes", "scenario", "extra"),
                         [(c, s, e) for c, s, e, fails in CASES if fails],
                         ids=[f"{next(iter(c))}-{s}" for c, s, _, fails in CASES if fails])
def test_server_and_client_readings_that_differ_are_detected(server_key, device_key, server_certificate, changes,
                                                             scenario, extra):
    alternative = Interpretation(**changes)
    detected = []
    for server, client in ((Interpretation(), alternative), (alternative, Interpretation())):
        try:
            status = _run(server_key, device_key, server_certificate, server, client, scenario, extra)
        except (ProtocolError, InputError):
            detected.append(True)  # the client refused
            continue
        detected.append(status is not Status.SUCCESS)  # or the server refused
    assert any(detected)


def test_ac_checksum_readings():
    """I-20/I-22: an AC issued under one CRC reading fails the checksum under another."""
    lab = Lab(ServerPolicy(require_authentication=False, interpretation=Interpretation(crc16=Crc16Variant.ARC)))
    ac = lab.server.issue_authentication_code()
    assert lab.client(3, authentication_code=ac, interpretation=Interpretation(crc16=Crc16Variant.ARC)).first_request()
    with pytest.raises(InputError):
        lab.client(4, authentication_code=ac).first_request()


def test_rsa_1_5_underscore_reading(server_key):
    """I-25: the App. B.3 spelling is RSA-1_5 only when both take that reading."""
    underscore = "http://www.w3.org/2001/04/xmlenc#rsa_1_5"
    alt = Interpretation(accept_rsa_1_5_underscore=True)
    lab = Lab(ServerPolicy(rsa_private_key=server_key, require_authentication=False, interpretation=alt))
    assert lab.run(lab.client(5, encryption_algorithms=(underscore,), interpretation=alt)).status is Status.SUCCESS
    strict = Lab(ServerPolicy(rsa_private_key=server_key, require_authentication=False))
    with pytest.raises(InputError):  # our strict client does not even offer it
        strict.client(6, encryption_algorithms=(underscore,)).first_request()


def test_reading_report_names_the_options():
    assert Interpretation(passphrase_source=PassphraseSource.NAMED_PASSPHRASE).differences() == {
        "passphrase_source": "named-passphrase"}
    assert replace(Interpretation(), two_pass_encryption_choice=TwoPassEncryptionChoice.METHOD_DEFAULT).differences() \
        == {"two_pass_encryption_choice": "method-default"}
