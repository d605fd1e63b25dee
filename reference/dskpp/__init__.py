"""Reference engine for DSKPP, RFC 6063 (the lab's oracle; no other implementation exists).

Modules: ``messages`` (typed frozen dataclasses, status and algorithm enums), ``codec``
(XML <-> messages, hardened parsing and schema validation; ``safexml``, ``codec_read``,
``codec_write`` behind it), ``crypto`` (DSKPP-PRF, key derivation, MACs, R_C encryption,
user authentication; ``prf``, ``authcode``, ``nonce_encryption`` behind it) and
``interpretation`` (every reading of an ambiguous sentence as a selectable option;
docs/dskpp-interpretations.md explains each).
"""
