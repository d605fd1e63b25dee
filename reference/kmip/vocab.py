"""Named KMIP tags and enumeration values the reference server and client use.

Every constant is looked up by its spec name in the tables of :mod:`.tags` when this
module is imported, so a misspelt name fails at import instead of producing a wrong tag.
Tag values never change between versions; enumeration values neither (2.x only marks
old ones "Reserved"), so one lookup serves every version (2.1 tables first, then 1.4
for the values 2.x dropped, e.g. Result Reason "Illegal Operation").
"""

from __future__ import annotations

from reference.kmip.tags import tables_for

_T21 = tables_for((2, 1))
_T14 = tables_for((1, 4))


def tag_of(name: str) -> int:
    info = _T21.tag_by_name(name) or _T14.tag_by_name(name)
    if info is None:
        raise KeyError(f"no KMIP tag named {name!r}")
    return info.value


def enum_value(table: str, name: str) -> int:
    for tables in (_T21, _T14):
        t = tables.enumeration(table)
        v = t.by_name(name) if t is not None else None
        if v is not None:
            return v.value
    raise KeyError(f"no value {name!r} in KMIP enumeration {table!r}")


def enum_name(table: str, value: int) -> str:
    """Spec name of ``value`` in ``table`` (for messages), or its hex form."""
    for tables in (_T21, _T14):
        t = tables.enumeration(table)
        v = t.by_value(value) if t is not None else None
        if v is not None:
            return v.name
    return f"0x{value:08X}"


def tag_name(tag: int) -> str:
    info = _T21.tag(tag) or _T14.tag(tag)
    return info.name if info is not None else f"0x{tag:06X}"


class Tag:
    """Tag values by spec name (KMIP 1.4 §9.1.3.1, 2.1 §11.56)."""

    # messages (1.4 §6-7, 2.1 §8-9)
    REQUEST_MESSAGE = tag_of("Request Message")
    RESPONSE_MESSAGE = tag_of("Response Message")
    REQUEST_HEADER = tag_of("Request Header")
    RESPONSE_HEADER = tag_of("Response Header")
    PROTOCOL_VERSION = tag_of("Protocol Version")
    PROTOCOL_VERSION_MAJOR = tag_of("Protocol Version Major")
    PROTOCOL_VERSION_MINOR = tag_of("Protocol Version Minor")
    MAXIMUM_RESPONSE_SIZE = tag_of("Maximum Response Size")
    CLIENT_CORRELATION_VALUE = tag_of("Client Correlation Value")
    SERVER_CORRELATION_VALUE = tag_of("Server Correlation Value")
    ASYNCHRONOUS_INDICATOR = tag_of("Asynchronous Indicator")
    BATCH_ERROR_CONTINUATION_OPTION = tag_of("Batch Error Continuation Option")
    BATCH_ORDER_OPTION = tag_of("Batch Order Option")
    TIME_STAMP = tag_of("Time Stamp")
    BATCH_COUNT = tag_of("Batch Count")
    BATCH_ITEM = tag_of("Batch Item")
    OPERATION = tag_of("Operation")
    UNIQUE_BATCH_ITEM_ID = tag_of("Unique Batch Item ID")
    REQUEST_PAYLOAD = tag_of("Request Payload")
    RESPONSE_PAYLOAD = tag_of("Response Payload")
    RESULT_STATUS = tag_of("Result Status")
    RESULT_REASON = tag_of("Result Reason")
    RESULT_MESSAGE = tag_of("Result Message")
    MESSAGE_EXTENSION = tag_of("Message Extension")
    CRITICALITY_INDICATOR = tag_of("Criticality Indicator")
    AUTHENTICATION = tag_of("Authentication")
    # objects and attributes
    UNIQUE_IDENTIFIER = tag_of("Unique Identifier")
    OBJECT_TYPE = tag_of("Object Type")
    TEMPLATE_ATTRIBUTE = tag_of("Template-Attribute")
    ATTRIBUTES = tag_of("Attributes")
    ATTRIBUTE = tag_of("Attribute")
    ATTRIBUTE_NAME = tag_of("Attribute Name")
    ATTRIBUTE_INDEX = tag_of("Attribute Index")
    ATTRIBUTE_VALUE = tag_of("Attribute Value")
    ATTRIBUTE_REFERENCE = tag_of("Attribute Reference")
    CURRENT_ATTRIBUTE = tag_of("Current Attribute")
    NEW_ATTRIBUTE = tag_of("New Attribute")
    VENDOR_IDENTIFICATION = tag_of("Vendor Identification")
    NAME = tag_of("Name")
    NAME_VALUE = tag_of("Name Value")
    NAME_TYPE = tag_of("Name Type")
    SYMMETRIC_KEY = tag_of("Symmetric Key")
    SECRET_DATA = tag_of("Secret Data")
    SECRET_DATA_TYPE = tag_of("Secret Data Type")
    OPAQUE_OBJECT = tag_of("Opaque Object")
    OPAQUE_DATA_VALUE = tag_of("Opaque Data Value")
    CERTIFICATE = tag_of("Certificate")
    CERTIFICATE_VALUE = tag_of("Certificate Value")
    PUBLIC_KEY = tag_of("Public Key")
    PRIVATE_KEY = tag_of("Private Key")
    SPLIT_KEY = tag_of("Split Key")
    TEMPLATE = tag_of("Template")
    PGP_KEY = tag_of("PGP Key")
    CERTIFICATE_REQUEST = tag_of("Certificate Request")
    KEY_BLOCK = tag_of("Key Block")
    KEY_FORMAT_TYPE = tag_of("Key Format Type")
    KEY_COMPRESSION_TYPE = tag_of("Key Compression Type")
    KEY_VALUE = tag_of("Key Value")
    KEY_MATERIAL = tag_of("Key Material")
    KEY = tag_of("Key")
    KEY_WRAPPING_DATA = tag_of("Key Wrapping Data")
    KEY_WRAPPING_SPECIFICATION = tag_of("Key Wrapping Specification")
    KEY_WRAP_TYPE = tag_of("Key Wrap Type")
    CRYPTOGRAPHIC_ALGORITHM = tag_of("Cryptographic Algorithm")
    CRYPTOGRAPHIC_LENGTH = tag_of("Cryptographic Length")
    CRYPTOGRAPHIC_PARAMETERS = tag_of("Cryptographic Parameters")
    CRYPTOGRAPHIC_USAGE_MASK = tag_of("Cryptographic Usage Mask")
    DIGEST = tag_of("Digest")
    HASHING_ALGORITHM = tag_of("Hashing Algorithm")
    DIGEST_VALUE = tag_of("Digest Value")
    STATE = tag_of("State")
    INITIAL_DATE = tag_of("Initial Date")
    ACTIVATION_DATE = tag_of("Activation Date")
    DEACTIVATION_DATE = tag_of("Deactivation Date")
    DESTROY_DATE = tag_of("Destroy Date")
    COMPROMISE_DATE = tag_of("Compromise Date")
    COMPROMISE_OCCURRENCE_DATE = tag_of("Compromise Occurrence Date")
    LAST_CHANGE_DATE = tag_of("Last Change Date")
    REVOCATION_REASON = tag_of("Revocation Reason")
    REVOCATION_REASON_CODE = tag_of("Revocation Reason Code")
    REVOCATION_MESSAGE = tag_of("Revocation Message")
    KEY_VALUE_PRESENT = tag_of("Key Value Present")
    PROCESS_START_DATE = tag_of("Process Start Date")
    PROTECT_STOP_DATE = tag_of("Protect Stop Date")
    USAGE_LIMITS = tag_of("Usage Limits")
    USAGE_LIMITS_TOTAL = tag_of("Usage Limits Total")
    USAGE_LIMITS_COUNT = tag_of("Usage Limits Count")
    USAGE_LIMITS_UNIT = tag_of("Usage Limits Unit")
    SENSITIVE = tag_of("Sensitive")
    ALWAYS_SENSITIVE = tag_of("Always Sensitive")
    EXTRACTABLE = tag_of("Extractable")
    NEVER_EXTRACTABLE = tag_of("Never Extractable")
    ORIGINAL_CREATION_DATE = tag_of("Original Creation Date")
    FRESH = tag_of("Fresh")
    RANDOM_NUMBER_GENERATOR = tag_of("Random Number Generator")
    RNG_ALGORITHM = tag_of("RNG Algorithm")
    SHORT_UNIQUE_IDENTIFIER = tag_of("Short Unique Identifier")
    # operation payload fields
    MAXIMUM_ITEMS = tag_of("Maximum Items")
    OFFSET_ITEMS = tag_of("Offset Items")
    STORAGE_STATUS_MASK = tag_of("Storage Status Mask")
    OBJECT_GROUP_MEMBER = tag_of("Object Group Member")
    LOCATED_ITEMS = tag_of("Located Items")
    QUERY_FUNCTION = tag_of("Query Function")
    SERVER_INFORMATION = tag_of("Server Information")
    INTEROP_FUNCTION = tag_of("Interop Function")
    INTEROP_IDENTIFIER = tag_of("Interop Identifier")
    DATA = tag_of("Data")
    IV_COUNTER_NONCE = tag_of("IV/Counter/Nonce")
    CORRELATION_VALUE = tag_of("Correlation Value")
    INIT_INDICATOR = tag_of("Init Indicator")
    FINAL_INDICATOR = tag_of("Final Indicator")
    BLOCK_CIPHER_MODE = tag_of("Block Cipher Mode")
    PADDING_METHOD = tag_of("Padding Method")
    RANDOM_IV = tag_of("Random IV")
    IV_LENGTH = tag_of("IV Length")
    TAG_LENGTH = tag_of("Tag Length")
    AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA = tag_of("Authenticated Encryption Additional Data")
    AUTHENTICATED_ENCRYPTION_TAG = tag_of("Authenticated Encryption Tag")


def _values(table: str, **names: str) -> dict[str, int]:
    return {attr: enum_value(table, spec) for attr, spec in names.items()}


class _Enum:
    """Attribute access to a few values of one enumeration table."""

    def __init__(self, table: str, **names: str) -> None:
        self.table = table
        for attr, value in _values(table, **names).items():
            setattr(self, attr, value)

    def name(self, value: int) -> str:
        return enum_name(self.table, value)


Operation = _Enum(
    "Operation", CREATE="Create", REGISTER="Register", LOCATE="Locate", GET="Get",
    GET_ATTRIBUTES="Get Attributes", GET_ATTRIBUTE_LIST="Get Attribute List", ADD_ATTRIBUTE="Add Attribute",
    MODIFY_ATTRIBUTE="Modify Attribute", DELETE_ATTRIBUTE="Delete Attribute", ACTIVATE="Activate",
    REVOKE="Revoke", DESTROY="Destroy", QUERY="Query", DISCOVER_VERSIONS="Discover Versions",
    ENCRYPT="Encrypt", DECRYPT="Decrypt", INTEROP="Interop", CREATE_KEY_PAIR="Create Key Pair",
)
ResultStatus = _Enum("Result Status", SUCCESS="Success", OPERATION_FAILED="Operation Failed",
                     OPERATION_PENDING="Operation Pending", OPERATION_UNDONE="Operation Undone")
ObjectType = _Enum(
    "Object Type", CERTIFICATE="Certificate", SYMMETRIC_KEY="Symmetric Key", PUBLIC_KEY="Public Key",
    PRIVATE_KEY="Private Key", SPLIT_KEY="Split Key", TEMPLATE="Template", SECRET_DATA="Secret Data",
    OPAQUE_OBJECT="Opaque Object", PGP_KEY="PGP Key", CERTIFICATE_REQUEST="Certificate Request",
)
State = _Enum("State", PRE_ACTIVE="Pre-Active", ACTIVE="Active", DEACTIVATED="Deactivated",
              COMPROMISED="Compromised", DESTROYED="Destroyed", DESTROYED_COMPROMISED="Destroyed Compromised")
BatchErrorContinuation = _Enum("Batch Error Continuation Option", CONTINUE="Continue", STOP="Stop", UNDO="Undo")
QueryFunction = _Enum("Query Function", OPERATIONS="Query Operations", OBJECTS="Query Objects",
                      SERVER_INFORMATION="Query Server Information")
RevocationReasonCode = _Enum("Revocation Reason Code", UNSPECIFIED="Unspecified", KEY_COMPROMISE="Key Compromise",
                             CA_COMPROMISE="CA Compromise", CESSATION_OF_OPERATION="Cessation of Operation")
KeyFormatType = _Enum("Key Format Type", RAW="Raw", OPAQUE="Opaque",
                      TRANSPARENT_SYMMETRIC_KEY="Transparent Symmetric Key")
CryptographicAlgorithm = _Enum("Cryptographic Algorithm", AES="AES", TRIPLE_DES="3DES")
HashingAlgorithm = _Enum("Hashing Algorithm", SHA_256="SHA-256")
NameType = _Enum("Name Type", UNINTERPRETED_TEXT_STRING="Uninterpreted Text String", URI="URI")
BlockCipherMode = _Enum("Block Cipher Mode", CBC="CBC", ECB="ECB", CTR="CTR", GCM="GCM")
PaddingMethod = _Enum("Padding Method", NONE="None", PKCS5="PKCS5")
UsageMask = _Enum("Cryptographic Usage Mask", ENCRYPT="Encrypt", DECRYPT="Decrypt")
UsageLimitsUnit = _Enum("Usage Limits Unit", BYTE="Byte", OBJECT="Object")
