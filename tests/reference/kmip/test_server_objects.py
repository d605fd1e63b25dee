"""Object operations and the state table of the reference KMIP server.

The state table below is KMIP 1.4 §3.22 (= 2.1 §4.57) retyped from the spec's list of
ten transitions, not imported from reference/kmip/lifecycle.py; refusal reasons are the
1.4 §11 error tables and the 2.1 error tables / OASIS 2.1 cases (quoted per test).
"""

from __future__ import annotations

import hashlib

import pytest

from reference.kmip.client import OperationFailed
from reference.kmip.ttlv import Item
from reference.kmip.vocab import ObjectType, Operation, QueryFunction, State, Tag, enum_value
from tests.reference.kmip.server_helpers import NOW, Clock, attribute_map, client, new_engine

V1, V2 = (1, 4), (2, 1)
STATES = ("Pre-Active", "Active", "Deactivated", "Compromised", "Destroyed", "Destroyed Compromised")
EVENTS = ("activate", "revoke-compromise", "revoke-other", "destroy")
# KMIP 1.4 §3.22: "Only the transitions described above are permitted."
SPEC_TRANSITIONS = {
    ("Pre-Active", "destroy"): "Destroyed",  # 2
    ("Pre-Active", "revoke-compromise"): "Compromised",  # 3
    ("Pre-Active", "activate"): "Active",  # 4
    ("Active", "revoke-compromise"): "Compromised",  # 5
    ("Active", "revoke-other"): "Deactivated",  # 6
    ("Deactivated", "destroy"): "Destroyed",  # 7
    ("Deactivated", "revoke-compromise"): "Compromised",  # 8
    ("Compromised", "destroy"): "Destroyed Compromised",  # 9
    ("Destroyed", "revoke-compromise"): "Destroyed Compromised",  # 10
}
# How to reach each state from a fresh key.
PATHS = {
    "Pre-Active": (),
    "Active": ("activate",),
    "Deactivated": ("activate", "revoke-other"),
    "Compromised": ("revoke-compromise",),
    "Destroyed": ("destroy",),
    "Destroyed Compromised": ("revoke-compromise", "destroy"),
}


def _apply(c, uid: str, event: str) -> None:
    if event == "activate":
        c.activate(uid)
    elif event == "revoke-compromise":
        c.revoke(uid, "Key Compromise")
    elif event == "revoke-other":
        c.revoke(uid, "Cessation of Operation")
    else:
        c.destroy(uid)


def _state(engine, uid: str) -> str:
    return STATES[engine.store.get(uid).state - 1]  # State enumeration 1..6 (1.4 §9.1.3.2.18)


@pytest.mark.parametrize("version", [V1, V2], ids=["1.4", "2.1"])
@pytest.mark.parametrize("start", STATES)
@pytest.mark.parametrize("event", EVENTS)
def test_state_table(version, start, event):
    engine = new_engine()
    c = client(engine, version)
    uid = c.create("AES", 128, usage_mask=12)
    for step in PATHS[start]:
        _apply(c, uid, step)
    assert _state(engine, uid) == start
    expected = SPEC_TRANSITIONS.get((start, event))
    if expected is not None:
        _apply(c, uid, event)
        assert _state(engine, uid) == expected
        return
    with pytest.raises(OperationFailed) as refused:
        _apply(c, uid, event)
    assert _state(engine, uid) == start
    if version == V1:
        # 1.4 §11.20 "Object is not in Pre-Active state"; §11.22 "not in Pre-Active,
        # Deactivated or Compromised state" / "has already been destroyed": Permission Denied.
        assert refused.value.reason == "Permission Denied"
    elif event == "destroy" and start.startswith("Destroyed"):
        assert refused.value.reason == "Object Destroyed"  # 2.1 §11.46 "has already been destroyed"
    else:
        assert refused.value.reason == "Wrong Key Lifecycle State"  # 2.1 SKLC-M-2-21


def test_activation_date_in_the_past_creates_an_active_object():
    # 1.4 §3.22 transition 1: "contains an Activation Date that has already occurred, then
    # the state immediately transitions from Pre-Active to Active".
    engine = new_engine()
    c = client(engine)
    uid = c.create("AES", 128, usage_mask=12, extra=[Item.date_time(Tag.ACTIVATION_DATE, NOW - 60)])
    assert _state(engine, uid) == "Active"
    assert engine.store.get(uid).value(Tag.ACTIVATION_DATE).value == NOW - 60  # "SHALL set ... to the value specified"


def test_dates_reached_move_the_state():
    clock = Clock()
    engine = new_engine(clock)
    c = client(engine)
    uid = c.create("AES", 128, usage_mask=12, extra=[Item.date_time(Tag.ACTIVATION_DATE, NOW + 100),
                                                      Item.date_time(Tag.DEACTIVATION_DATE, NOW + 200)])
    state = lambda: attribute_map(c.get_attributes(uid, ["State"]))["State"]  # noqa: E731
    assert state() == [State.PRE_ACTIVE]
    clock.now = NOW + 100  # "The Activation Date is reached" (transition 4)
    assert state() == [State.ACTIVE]
    clock.now = NOW + 250  # "The object's Deactivation Date is reached" (transition 6)
    assert state() == [State.DEACTIVATED]


def test_activate_sets_activation_date_to_now():
    clock = Clock()
    engine = new_engine(clock)
    c = client(engine)
    uid = c.create("AES", 128, usage_mask=12)
    clock.now = NOW + 42
    c.activate(uid)
    assert engine.store.get(uid).value(Tag.ACTIVATION_DATE).value == NOW + 42  # 1.4 §4.19


def test_revoke_compromise_dates():
    clock = Clock()
    engine = new_engine(clock)
    c = client(engine)
    uid = c.create("AES", 128, usage_mask=12)
    clock.now = NOW + 10
    c.revoke(uid, "Key Compromise")
    mo = engine.store.get(uid)
    # 1.4 §4.20: Compromise Date = now; Compromise Occurrence Date SHOULD be the Initial Date.
    assert mo.value(Tag.COMPROMISE_DATE).value == NOW + 10
    assert mo.value(Tag.COMPROMISE_OCCURRENCE_DATE).value == NOW
    uid2 = c.create("AES", 128, usage_mask=12)
    c.revoke(uid2, "CA Compromise", compromise_occurrence=NOW - 500)
    assert engine.store.get(uid2).value(Tag.COMPROMISE_OCCURRENCE_DATE).value == NOW - 500


def test_revoke_checks_its_reason():
    c = client(new_engine())
    uid = c.create("AES", 128, usage_mask=12)
    c.activate(uid)
    with pytest.raises(OperationFailed) as bad_code:
        c.revoke(uid, 0x7777)
    assert bad_code.value.reason == "Invalid Field"  # 1.4 §11.21 "Revocation Reason is not recognized"
    with pytest.raises(OperationFailed) as bad_date:
        c.revoke(uid, "Cessation of Operation", compromise_occurrence=NOW)
    assert bad_date.value.reason == "Invalid Field"  # §4.20 "SHALL NOT be specified for other ... reasons"


@pytest.mark.parametrize("version, reason", [(V1, "Illegal Operation"), (V2, "Object Destroyed")])
def test_get_of_a_destroyed_key(version, reason):
    # 1.4 §11.12 "Object exists and is not a Template, but the server only has attributes
    # for this object | Illegal Operation"; 2.1: OASIS BL-M-8-21 expects Object Destroyed.
    engine = new_engine()
    c = client(engine, version)
    uid = c.create("AES", 128, usage_mask=12)
    c.destroy(uid)
    with pytest.raises(OperationFailed) as refused:
        c.get(uid)
    assert refused.value.reason == reason
    # 1.4 §4.21: "The meta-data for the key material MAY be retained": we keep it.
    attributes = attribute_map(c.get_attributes(uid))
    assert State.DESTROYED in attributes["State"] and "Destroy Date" in attributes


@pytest.mark.parametrize("version, reason", [(V1, "Item Not Found"), (V2, "Object Not Found")])
def test_unknown_identifier(version, reason):
    c = client(new_engine(), version)
    for call in (c.get, c.activate, c.destroy, c.get_attributes, c.get_attribute_list):
        with pytest.raises(OperationFailed) as refused:
            call("AAABBBCCC")
        assert refused.value.reason == reason  # 1.4 §11.12 ff.; 2.1 OASIS BL-M-4-21


def test_register_and_get_return_the_same_key_and_digest():
    engine = new_engine()
    c = client(engine)
    key = bytes(range(32))
    uid = c.register_symmetric_key(key, "AES", 256, usage_mask=12, name="registered")
    got = c.get(uid)
    assert got.key_material == key and got.object_type == ObjectType.SYMMETRIC_KEY
    attributes = attribute_map(c.get_attributes(uid, ["Digest", "Cryptographic Algorithm", "Cryptographic Length"]))
    digest = attributes["Digest"][0]
    # 1.4 §3.17: SHA-256 over the Key Material byte string, Key Format Type of the registered object.
    assert digest.find(Tag.DIGEST_VALUE).value == hashlib.sha256(key).digest()
    assert digest.find(Tag.HASHING_ALGORITHM).value == enum_value("Hashing Algorithm", "SHA-256")
    assert digest.find(Tag.KEY_FORMAT_TYPE).value == enum_value("Key Format Type", "Raw")
    # taken from the Key Block when the template does not say
    assert attributes["Cryptographic Algorithm"] == [enum_value("Cryptographic Algorithm", "AES")]
    assert attributes["Cryptographic Length"] == [256]


def test_get_in_transparent_symmetric_key_format():
    c = client(new_engine())
    key = bytes(range(16))
    uid = c.register_symmetric_key(key, "AES", 128, usage_mask=12)
    got = c.get(uid, key_format="Transparent Symmetric Key")
    block = got.object.find(Tag.KEY_BLOCK)
    # 1.4 §2.1.7.1: Key Material is a structure holding Key (Byte String).
    assert block.find(Tag.KEY_FORMAT_TYPE).value == enum_value("Key Format Type", "Transparent Symmetric Key")
    assert block.find(Tag.KEY_VALUE).find(Tag.KEY_MATERIAL).find(Tag.KEY).value == key
    with pytest.raises(OperationFailed) as refused:
        c.get(uid, key_format="PKCS#8")
    assert refused.value.reason == "Key Format Type Not Supported"


def test_register_object_type_must_match_the_object():
    from reference.kmip.objects import symmetric_key
    from tests.reference.kmip.server_helpers import answer, batch_item, message, outcome, results

    payload = [Item.enumeration(Tag.OBJECT_TYPE, ObjectType.SECRET_DATA), Item.structure(Tag.TEMPLATE_ATTRIBUTE, []),
               symmetric_key(bytes(16), 3, 128)]
    [r] = results(answer(new_engine(), message(V1, batch_item(Operation.REGISTER, *payload))))
    assert outcome(r) == ("Operation Failed", "Invalid Field")  # 1.4 §11.4 "Object Type does not match"


def test_opaque_object_register_and_get():
    engine = new_engine()
    c = client(engine, V2)
    opaque = Item.structure(Tag.OPAQUE_OBJECT, [Item.enumeration(0x420059, 0x80123456),
                                                Item.byte_string(Tag.OPAQUE_DATA_VALUE, b"\x01\x23")])
    r = c.send_batch([(Operation.REGISTER, [Item.enumeration(Tag.OBJECT_TYPE, ObjectType.OPAQUE_OBJECT),
                                            Item.structure(Tag.ATTRIBUTES, []), opaque])])[0].raise_for_status()
    got = c.get(r.field(Tag.UNIQUE_IDENTIFIER))
    assert got.object == opaque  # returned as registered (1.4 §4.11)


@pytest.mark.parametrize("version, reason", [(V1, "Invalid Field"), (V2, "Non Unique Name Attribute")])
def test_names_are_unique(version, reason):
    c = client(new_engine(), version)
    c.create("AES", 128, usage_mask=12, name="same")
    with pytest.raises(OperationFailed) as refused:
        c.create("AES", 128, usage_mask=12, name="same")
    assert refused.value.reason == reason  # 1.4 §11.2 "same Name attribute value as an existing object"


def test_create_defaults_and_server_attributes():
    engine = new_engine()
    c = client(engine)
    uid = c.create("AES", 192)
    attributes = attribute_map(c.get_attributes(uid))
    assert attributes["Cryptographic Usage Mask"] == [12]  # our documented default: Encrypt | Decrypt
    assert attributes["Initial Date"] == [NOW] and attributes["Last Change Date"] == [NOW]
    assert attributes["State"] == [State.PRE_ACTIVE]
    assert len(c.get(uid).key_material) == 24
    with pytest.raises(OperationFailed) as refused:
        c.create("AES", 100)
    assert refused.value.reason == "Invalid Field"


# ----------------------------------------------------------------------------- Locate
def test_locate_matches_all_attributes_and_sets_the_placeholder():
    engine = new_engine()
    c = client(engine)
    a = c.create("AES", 128, usage_mask=12, name="loc-a")
    b = c.create("AES", 256, usage_mask=4, name="loc-b")
    assert c.locate([("Name", "loc-a")]) == [a]
    assert set(c.locate([("Object Type", ObjectType.SYMMETRIC_KEY)])) == {a, b}
    assert c.locate([("Cryptographic Length", 256)]) == [b]
    # 1.4 §4.9: usage mask match = all requested bits set in the candidate's mask
    assert set(c.locate([("Cryptographic Usage Mask", 4)])) == {a, b}
    assert c.locate([("Cryptographic Usage Mask", 8)]) == [a]
    assert c.locate([("Name", "nothing")]) == []
    # "If a single Unique Identifier is returned ... copy [it] into the ID Placeholder"
    r = c.send_batch([(Operation.LOCATE, c.attributes_payload([Item.structure(Tag.NAME, [
        Item.text_string(Tag.NAME_VALUE, "loc-b")])])), (Operation.GET, [])])
    assert r[1].ok and r[1].field(Tag.UNIQUE_IDENTIFIER) == b
    # several matched and no Maximum Items: "the server SHALL empty the ID Placeholder"
    r = c.send_batch([(Operation.LOCATE, []), (Operation.GET, [])], continuation=1)
    assert not r[1].ok and r[1].reason_name == "Item Not Found"


def test_locate_date_range_paging_and_destroyed_objects():
    clock = Clock()
    engine = new_engine(clock)
    c = client(engine)
    uids = []
    for i in range(4):
        clock.now = NOW + i * 10
        uids.append(c.create("AES", 128, usage_mask=12, name=f"page-{i}"))
    # two instances of a date attribute = a range, limits included (1.4 §4.9)
    in_range = c.locate([("Initial Date", NOW + 10), ("Initial Date", NOW + 20)])
    assert set(in_range) == {uids[1], uids[2]}
    assert c.locate([("Initial Date", NOW + 30)]) == [uids[3]]
    everything = c.locate()
    assert sorted(everything) == sorted(uids)
    page = c.locate(maximum_items=2, offset_items=1)
    assert page == everything[1:3]
    c.destroy(uids[0])
    assert uids[0] not in c.locate()
    assert c.locate([("State", State.DESTROYED)]) == [uids[0]]


def test_locate_2x_uses_attributes():
    c = client(new_engine(), V2)
    uid = c.create("AES", 128, usage_mask=12, name="v2-name")
    assert c.locate([("Name", "v2-name"), ("Cryptographic Algorithm", "AES")]) == [uid]


# ----------------------------------------------------------------------------- Query / Discover Versions
def test_query_lists_operations_objects_and_server_information():
    c = client(new_engine())
    r = c.query((QueryFunction.OPERATIONS, QueryFunction.OBJECTS, QueryFunction.SERVER_INFORMATION))
    operations = set(r.fields(Tag.OPERATION))
    for name in ("Create", "Register", "Get", "Get Attributes", "Get Attribute List", "Add Attribute", "Modify Attribute",
                 "Delete Attribute", "Activate", "Revoke", "Destroy", "Locate", "Query", "Discover Versions",
                 "Encrypt", "Decrypt"):
        assert enum_value("Operation", name) in operations, name
    assert enum_value("Operation", "Interop") not in operations  # a 2.x operation, asked in 1.4
    assert ObjectType.SYMMETRIC_KEY in r.fields(Tag.OBJECT_TYPE)
    assert r.field(Tag.VENDOR_IDENTIFICATION)
    assert client(new_engine()).query(()).payload.items == ()  # no function, nothing returned


def test_discover_versions():
    c = client(new_engine(), (1, 1))
    assert c.discover_versions() == [(2, 1), (2, 0), (1, 4), (1, 3), (1, 2), (1, 1), (1, 0)]
    # "SHALL return only the protocol versions that are supported by both" (1.4 §4.26)
    assert c.discover_versions([(1, 0), (1, 4), (3, 0)]) == [(1, 4), (1, 0)]
    assert c.discover_versions([(3, 0)]) == []  # "SHALL return an empty list" (2.1 §6.1.16)


def test_fresh_random_number_generator_and_short_unique_identifier():
    engine = new_engine()
    c = client(engine, V2)
    uid = c.create("AES", 128, usage_mask=12)
    attributes = attribute_map(c.get_attributes(uid))
    assert attributes["Fresh"] == [True]  # 1.4 §3.34 "True when a new object is created"
    # 1.4 §3.44: mandatory for server-created objects; details unknown -> RNG Algorithm Unspecified
    rng = attributes["Random Number Generator"][0]
    assert rng.find(Tag.RNG_ALGORITHM).value == enum_value("RNG Algorithm", "Unspecified")
    # 2.1 §4.56: SHA-256 of the Unique Identifier, 32 bytes
    assert attributes["Short Unique Identifier"] == [hashlib.sha256(uid.encode()).digest()]
    c.get(uid)
    assert attribute_map(c.get_attributes(uid, ["Fresh"]))["Fresh"] == [False]  # "False as soon as ... served"
    assert "Short Unique Identifier" not in client(engine, V1).get_attribute_list(uid)  # a 2.x attribute


def test_a_destroyed_object_releases_its_name():
    c = client(new_engine())
    old = c.create("AES", 128, usage_mask=12, name="rotating")
    c.destroy(old)
    new = c.create("AES", 128, usage_mask=12, name="rotating")
    assert c.locate([("Name", "rotating")]) == [new]
