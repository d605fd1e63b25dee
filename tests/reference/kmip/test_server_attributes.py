"""Attribute operations of the reference KMIP server: Get Attributes, Get Attribute List,
Add / Modify / Delete Attribute, in their 1.x (Attribute Name + Index) and 2.x (Attribute
Reference, New / Current Attribute) forms.  Rules from the KMIP 1.4 §3 attribute tables
and §4.12-§4.16; 2.x reasons from the OASIS 2.1 baseline cases where they pin one."""

from __future__ import annotations

import pytest

from reference.kmip.client import OperationFailed
from reference.kmip.ttlv import Item
from reference.kmip.vocab import Operation, State, Tag
from tests.reference.kmip.server_helpers import answer, attribute_map, batch_item, client, message, new_engine, outcome, results

V1, V2 = (1, 4), (2, 1)


def _key(version=V1, name="attr-key"):
    engine = new_engine()
    c = client(engine, version)
    return engine, c, c.create("AES", 128, usage_mask=12, name=name)


def test_get_attributes_by_name_keeps_request_order_and_skips_absent_ones():
    # 1.4 §4.12: "If a specified attribute does not exist ... it SHALL NOT be present"
    _, c, uid = _key()
    got = c.get_attributes(uid, ["State", "Cryptographic Length", "Deactivation Date", "Object Type"])
    assert [name for name, _, _ in got] == ["State", "Cryptographic Length", "Object Type"]


def test_get_attributes_rejects_a_repeated_name():
    engine, c, uid = _key()
    payload = [Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), Item.text_string(Tag.ATTRIBUTE_NAME, "State"),
               Item.text_string(Tag.ATTRIBUTE_NAME, "State")]
    [r] = results(answer(engine, message(V1, batch_item(Operation.GET_ATTRIBUTES, *payload))))
    assert outcome(r) == ("Operation Failed", "Invalid Message")  # 1.4 §11.13


def test_get_attributes_2x_answers_in_an_attributes_structure():
    engine, c, uid = _key(V2)
    payload = [Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), Item.enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.STATE),
               Item.enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.CRYPTOGRAPHIC_ALGORITHM)]
    [r] = results(answer(engine, message(V2, batch_item(Operation.GET_ATTRIBUTES, *payload))))
    attrs = r.payload.find(Tag.ATTRIBUTES)  # 2.1 §6.1.20 response: Unique Identifier, Attributes
    assert [a.tag for a in attrs.items] == [Tag.STATE, Tag.CRYPTOGRAPHIC_ALGORITHM]
    assert attrs.find(Tag.STATE).value == State.PRE_ACTIVE


def test_get_attribute_list_names_what_get_attributes_returns():
    _, c, uid = _key()
    names = c.get_attribute_list(uid)
    everything = [name for name, _, _ in c.get_attributes(uid)]
    assert sorted(set(everything)) == sorted(names)
    assert {"Unique Identifier", "Object Type", "State", "Name", "Cryptographic Algorithm"} <= set(names)
    _, c2, uid2 = _key(V2)
    assert {"State", "Name"} <= set(c2.get_attribute_list(uid2))


def test_older_versions_do_not_see_newer_attributes():
    # Sensitive / Extractable are KMIP 1.4 attributes (1.4 §3.48-§3.51); a 1.0 peer is not sent them.
    engine = new_engine()
    uid = client(engine, V1).create("AES", 128, usage_mask=12)
    assert "Sensitive" in client(engine, V1).get_attribute_list(uid)
    assert "Sensitive" not in client(engine, (1, 0)).get_attribute_list(uid)


def test_add_modify_delete_multi_instance_with_stable_indices():
    # 1.4 §2.1.1: indices start at 0 and "SHALL NOT change when other instances are added or deleted".
    _, c, uid = _key()
    c.add_attribute(uid, "Object Group", "g0")
    c.add_attribute(uid, "Object Group", "g1")
    c.add_attribute(uid, "Object Group", "g2")
    c.delete_attribute(uid, "Object Group", index=1)
    groups = [(i, v.value) for n, i, v in c.get_attributes(uid, ["Object Group"])]
    assert groups == [(0, "g0"), (2, "g2")]
    c.modify_attribute(uid, "Object Group", "g2-new", index=2)
    groups = [(i, v.value) for n, i, v in c.get_attributes(uid, ["Object Group"])]
    assert groups == [(0, "g0"), (2, "g2-new")]
    with pytest.raises(OperationFailed) as refused:
        c.modify_attribute(uid, "Object Group", "x", index=1)
    assert refused.value.reason == "Item Not Found"  # 1.4 §11.16 "No matching attribute instance exists"


def test_add_attribute_response_returns_the_attribute_with_its_index():
    engine, c, uid = _key()
    attribute = Item.structure(Tag.ATTRIBUTE, [Item.text_string(Tag.ATTRIBUTE_NAME, "Name"), Item.structure(
        Tag.ATTRIBUTE_VALUE, [Item.text_string(Tag.NAME_VALUE, "second"), Item.enumeration(Tag.NAME_TYPE, 1)])])
    [r] = results(answer(engine, message(V1, batch_item(Operation.ADD_ATTRIBUTE, Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), attribute))))
    returned = r.payload.find(Tag.ATTRIBUTE)
    assert returned.find(Tag.ATTRIBUTE_INDEX).value == 1  # the key already had Name index 0
    assert returned.find(Tag.ATTRIBUTE_VALUE).find(Tag.NAME_VALUE).value == "second"


def test_add_attribute_with_an_index_is_invalid_field():
    engine, c, uid = _key()
    attribute = Item.structure(Tag.ATTRIBUTE, [Item.text_string(Tag.ATTRIBUTE_NAME, "Contact Information"),
                                               Item.integer(Tag.ATTRIBUTE_INDEX, 0),
                                               Item.text_string(Tag.ATTRIBUTE_VALUE, "ops")])
    [r] = results(answer(engine, message(V1, batch_item(Operation.ADD_ATTRIBUTE, Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), attribute))))
    assert outcome(r) == ("Operation Failed", "Invalid Field")  # 1.4 §11.15 "New attribute contains Attribute Index"


@pytest.mark.parametrize("version, reason", [(V1, "Illegal Operation"), (V2, "Attribute Single Valued")])
def test_second_instance_of_a_single_valued_attribute(version, reason):
    # 1.4 §11.15 "The specified attribute already exists"; 2.1 OASIS BL-M-5-21.
    _, c, uid = _key(version)
    c.add_attribute(uid, "Description", "first")
    with pytest.raises(OperationFailed) as refused:
        c.add_attribute(uid, "Description", "second")
    assert refused.value.reason == reason


@pytest.mark.parametrize("version, add_reason, modify_reason",
                         [(V1, "Permission Denied", "Permission Denied"), (V2, "Read Only Attribute", "Attribute Read Only")])
def test_server_attributes_are_read_only(version, add_reason, modify_reason):
    # 1.4 §11.15 "Attempt to add a read-only attribute", §11.16 "The specified attribute is
    # read-only"; 2.1 OASIS BL-M-7-21 (Modify State -> Attribute Read Only).
    _, c, uid = _key(version)
    with pytest.raises(OperationFailed) as added:
        c.add_attribute(uid, "Destroy Date", 5)
    assert added.value.reason == add_reason
    with pytest.raises(OperationFailed) as modified:
        c.modify_attribute(uid, "State", State.COMPROMISED)
    assert modified.value.reason == modify_reason
    with pytest.raises(OperationFailed) as modified_alg:
        c.modify_attribute(uid, "Cryptographic Algorithm", "3DES")  # §3.4: not modifiable by client
    assert modified_alg.value.reason == modify_reason


@pytest.mark.parametrize("version, reason", [(V1, "Permission Denied"), (V2, "Wrong Key Lifecycle State")])
def test_activation_date_is_modifiable_only_while_pre_active(version, reason):
    # 1.4 §3.24 "Modifiable by client: Yes, only while in Pre-Active state"; OASIS SKLC-M-3-14 / -21.
    _, c, uid = _key(version)
    c.activate(uid)
    with pytest.raises(OperationFailed) as refused:
        c.modify_attribute(uid, "Activation Date", 1)
    assert refused.value.reason == reason


def test_modifying_the_activation_date_into_the_past_activates():
    # 1.4 §3.22 transition 4: "A client successfully issues a Modify Attribute operation,
    # modifying the Activation Date to a date in the past".
    engine, c, uid = _key()
    c.add_attribute(uid, "Activation Date", 10**9 * 2)  # far future: stays Pre-Active
    assert engine.store.get(uid).state == State.PRE_ACTIVE
    c.modify_attribute(uid, "Activation Date", 1000)
    assert engine.store.get(uid).state == State.ACTIVE


def test_delete_rules():
    _, c, uid = _key()
    with pytest.raises(OperationFailed) as required:
        c.delete_attribute(uid, "Cryptographic Length")
    assert required.value.reason == "Permission Denied"  # 1.4 §11.17 "read-only/REQUIRED attribute"
    with pytest.raises(OperationFailed) as absent:
        c.delete_attribute(uid, "Contact Information")
    assert absent.value.reason == "Item Not Found"  # 1.4 §11.17 "No attribute with the specified name exists"
    c.add_attribute(uid, "Contact Information", "ops@example.org")
    c.delete_attribute(uid, "Contact Information")
    assert "Contact Information" not in c.get_attribute_list(uid)


def test_2x_modify_and_delete_with_current_attribute():
    _, c, uid = _key(V2)
    c.add_attribute(uid, "Object Group", "a")
    c.add_attribute(uid, "Object Group", "b")
    with pytest.raises(OperationFailed):
        c.modify_attribute(uid, "Object Group", "c")  # two instances, no Current Attribute (2.1 §6.1.34)
    c.modify_attribute(uid, "Object Group", "c", current="b")
    assert sorted(v.value for n, _, v in c.get_attributes(uid, ["Object Group"])) == ["a", "c"]
    with pytest.raises(OperationFailed) as missing:
        c.modify_attribute(uid, "Object Group", "d", current="zzz")
    assert missing.value.reason == "Attribute Instance Not Found"
    c.delete_attribute(uid, "Object Group")  # Attribute Reference only: all instances (2.1 §6.1.13)
    assert "Object Group" not in c.get_attribute_list(uid)


@pytest.mark.parametrize("version, reason", [(V1, "Illegal Operation"), (V2, "Non Unique Name Attribute")])
def test_added_name_must_be_unique(version, reason):
    # 1.4 §11.15 "Trying to add a Name attribute with the same value that another object
    # already has"; 2.1 OASIS BL-M-8-21 (the same Name added again to the same object).
    engine = new_engine()
    c = client(engine, version)
    a = c.create("AES", 128, usage_mask=12, name="taken")
    b = c.create("AES", 128, usage_mask=12, name="other")
    for uid in (a, b):
        with pytest.raises(OperationFailed) as refused:
            c.add_attribute(uid, "Name", "taken")
        assert refused.value.reason == reason
    c.modify_attribute(b, "Name", "other")  # modifying a Name to its own value is no clash


def test_custom_attributes_cross_versions():
    # 1.4 §3.39 "x-" custom attribute == 2.1 §4.60 vendor attribute with Vendor Identification "x".
    engine = new_engine()
    uid = client(engine, V1).create("AES", 128, usage_mask=12)
    client(engine, V1).add_attribute(uid, "Contact Information", "c")
    v1 = client(engine, V1)
    engine_attr = Item.structure(Tag.ATTRIBUTE, [Item.text_string(Tag.ATTRIBUTE_NAME, "x-owner"),
                                                 Item.text_string(Tag.ATTRIBUTE_VALUE, "team-a")])
    v1.send_batch([(Operation.ADD_ATTRIBUTE, [Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), engine_attr])])[0].raise_for_status()
    assert attribute_map(v1.get_attributes(uid, ["x-owner"]))["x-owner"] == ["team-a"]
    v2 = client(engine, V2)
    ref = Item.structure(Tag.ATTRIBUTE_REFERENCE, [Item.text_string(Tag.VENDOR_IDENTIFICATION, "x"),
                                                   Item.text_string(Tag.ATTRIBUTE_NAME, "owner")])
    [r] = v2.send_batch([(Operation.GET_ATTRIBUTES, [Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), ref])])
    vendor = r.payload.find(Tag.ATTRIBUTES).find(Tag.ATTRIBUTE)
    assert vendor.find(Tag.VENDOR_IDENTIFICATION).value == "x" and vendor.find(Tag.ATTRIBUTE_VALUE).value == "team-a"
    # server-owned "y-" attributes are not the client's to add (1.4 §3.39)
    y_attr = Item.structure(Tag.ATTRIBUTE, [Item.text_string(Tag.ATTRIBUTE_NAME, "y-audit"),
                                            Item.text_string(Tag.ATTRIBUTE_VALUE, "no")])
    [r] = v1.send_batch([(Operation.ADD_ATTRIBUTE, [Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), y_attr])])
    assert r.reason_name == "Permission Denied"


def test_last_change_date_follows_changes():
    from tests.reference.kmip.server_helpers import NOW, Clock

    clock = Clock()
    engine = new_engine(clock)
    c = client(engine)
    uid = c.create("AES", 128, usage_mask=12)
    clock.now = NOW + 77
    c.add_attribute(uid, "Description", "changed")  # 1.4 §3.38
    assert engine.store.get(uid).value(Tag.LAST_CHANGE_DATE).value == NOW + 77


def test_wrong_attribute_value_type():
    engine, c, uid = _key()
    bad = Item.structure(Tag.ATTRIBUTE, [Item.text_string(Tag.ATTRIBUTE_NAME, "Contact Information"),
                                         Item.integer(Tag.ATTRIBUTE_VALUE, 5)])
    [r] = results(answer(engine, message(V1, batch_item(Operation.ADD_ATTRIBUTE, Item.text_string(Tag.UNIQUE_IDENTIFIER, uid), bad))))
    assert outcome(r) == ("Operation Failed", "Invalid Field")
