"""Why a batch item fails, and the Result Reason each KMIP version gives it.

Operations raise :class:`KmipFailure` with a *kind* (what went wrong); the server turns
it into Result Status "Operation Failed" + the Result Reason of the request's major
version + a Result Message.  KMIP 1.x and 2.x name different reasons for the same fault
(2.0 added e.g. Object Not Found, Wrong Key Lifecycle State and dropped Illegal Operation
and Index Out of Bounds), so the table below holds both, each cited:

* 1.x reasons: KMIP 1.4 §11 (per-operation error tables, Table 327 ff.);
* 2.x reasons: KMIP 2.1 §6.1.x.1 "Error Handling" tables and §11.46 descriptions, and the
  OASIS 2.1 test cases where they pin one (BL-M-4/5/7/8-21, SKLC-M-2/3-21, CS-BC-M-14-21).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reference.kmip.vocab import enum_value


class Failure(Enum):
    """value = (KMIP 1.x Result Reason, KMIP 2.x Result Reason, where each is read)."""

    INVALID_MESSAGE = ("Invalid Message", "Invalid Message", "1.4 §11.1 Table 327")
    INVALID_FIELD = ("Invalid Field", "Invalid Field", "1.4 §11.1; 2.1 §11.46")
    OPERATION_NOT_SUPPORTED = ("Operation Not Supported", "Operation Not Supported", "1.4 §11.1 Table 327")
    FEATURE_NOT_SUPPORTED = ("Feature Not Supported", "Feature Not Supported", "1.4 §11.1; 2.1 §11.46")
    RESPONSE_TOO_LARGE = ("Response Too Large", "Response Too Large", "1.4 §11.1 Table 327")
    PERMISSION_DENIED = ("Permission Denied", "Permission Denied", "1.4 §11.1")
    # object lookup
    OBJECT_NOT_FOUND = ("Item Not Found", "Object Not Found", "1.4 §11.12 ff.; 2.1 BL-M-4-21")
    TEMPLATE_NOT_FOUND = ("Item Not Found", "Invalid Field", "1.4 §11.2 'Templates that do not exist'")
    # Get / crypto on a destroyed object: 1.4 §11.12 "Object exists and is not a Template,
    # but the server only has attributes for this object"; 2.1 §11.46 Object Destroyed.
    KEY_MATERIAL_DESTROYED = ("Illegal Operation", "Object Destroyed", "1.4 §11.12; 2.1 BL-M-8-21")
    # Destroy of a destroyed object: 1.4 §11.22 "has already been destroyed".
    ALREADY_DESTROYED = ("Permission Denied", "Object Destroyed", "1.4 §11.22; 2.1 §6.1.15.1")
    # state table violations: 1.4 §11.20/§11.22 "not in Pre-Active state" etc.
    WRONG_STATE = ("Permission Denied", "Wrong Key Lifecycle State", "1.4 §11.20, §11.22; 2.1 SKLC-M-2-21")
    INVALID_OBJECT_TYPE = ("Illegal Operation", "Invalid Object Type", "1.4 §11.20 'template or other object'")
    UNSUPPORTED_OBJECT_TYPE = ("Invalid Field", "Invalid Object Type", "1.4 §11.2 'Object Type is not recognized'")
    # attributes
    INVALID_ATTRIBUTE = ("Invalid Field", "Invalid Attribute", "1.4 §11.2 'Incorrect attribute'; 2.1 §11.46")
    INVALID_ATTRIBUTE_VALUE = ("Invalid Field", "Invalid Attribute Value", "1.4 §11.2; 2.1 §11.46")
    READ_ONLY_ADD = ("Permission Denied", "Read Only Attribute", "1.4 §11.15; 2.1 §6.1.2.1")
    READ_ONLY = ("Permission Denied", "Attribute Read Only", "1.4 §11.16, §11.17; 2.1 BL-M-7-21")
    SINGLE_VALUED_NEW = ("Invalid Field", "Attribute Single Valued", "1.4 §11.2 'Incorrect attribute'; 2.1 §6.1.8.1")
    SINGLE_VALUED = ("Illegal Operation", "Attribute Single Valued", "1.4 §11.15; 2.1 BL-M-5-21")
    NON_UNIQUE_NAME_NEW = ("Invalid Field", "Non Unique Name Attribute", "1.4 §11.2, §11.4")
    NON_UNIQUE_NAME = ("Illegal Operation", "Non Unique Name Attribute", "1.4 §11.15, §11.16; 2.1 BL-M-8-21")
    ATTRIBUTE_NOT_FOUND_MODIFY = ("Invalid Field", "Attribute Not Found", "1.4 §11.16; 2.1 §6.1.34.1")
    ATTRIBUTE_NOT_FOUND = ("Item Not Found", "Attribute Not Found", "1.4 §11.17; 2.1 §6.1.13.1")
    ATTRIBUTE_INSTANCE_NOT_FOUND = ("Item Not Found", "Attribute Instance Not Found", "1.4 §11.16; 2.1 §11.46")
    INDEX_IN_NEW_ATTRIBUTE = ("Invalid Field", "Invalid Field", "1.4 §11.15 'New attribute contains Attribute Index'")
    # cryptography
    CRYPTOGRAPHIC_FAILURE = ("Cryptographic Failure", "Cryptographic Failure", "1.4 §11.30, §11.31")
    INCOMPATIBLE_USAGE_MASK = ("Permission Denied", "Incompatible Cryptographic Usage Mask",
                               "1.4 §11.30 'not able to be used for encryption'; 2.1 §6.1.17.1")
    BAD_CRYPTOGRAPHIC_PARAMETERS = ("Invalid Field", "Bad Cryptographic Parameters", "2.1 §6.1.17.1")
    UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS = ("Feature Not Supported", "Unsupported Cryptographic Parameters",
                                            "2.1 §6.1.17.1")
    # OASIS CS-BC-M-11/12/13 (1.4 and 2.1) expect Invalid Message for a Decrypt without IV.
    MISSING_IV = ("Invalid Message", "Invalid Message", "OASIS CS-BC-M-12-14 / -21")
    USAGE_LIMIT_EXCEEDED = ("Permission Denied", "Permission Denied", "1.4 §3.21; OASIS CS-BC-M-7-14 and -21 both expect Permission Denied")
    KEY_FORMAT_NOT_SUPPORTED = ("Key Format Type Not Supported", "Key Format Type Not Supported", "1.4 §11.12")
    SENSITIVE = ("Sensitive", "Sensitive", "1.4 §11.12 'Object is Sensitive'")
    NOT_EXTRACTABLE = ("Not Extractable", "Not Extractable", "1.4 §11.12 'Object is not Extractable'")
    GENERAL_FAILURE = ("General Failure", "General Failure", "1.4 §9.1.3.2.29; 2.1 §11.46")
    KEY_VALUE_NOT_PRESENT = ("Key Value Not Present", "Key Value Not Present", "1.4 §11.30")

    def reason(self, major: int) -> int:
        """The Result Reason enumeration value for a message of protocol ``major``."""
        return enum_value("Result Reason", self.value[0] if major < 2 else self.value[1])

    def reason_name(self, major: int) -> str:
        return self.value[0] if major < 2 else self.value[1]


@dataclass
class KmipFailure(Exception):
    """A batch item that fails; ``message`` becomes the Result Message (no key material)."""

    failure: Failure
    message: str

    def __str__(self) -> str:
        return f"{self.failure.name}: {self.message}"
