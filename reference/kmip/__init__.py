"""KMIP reference codec: TTLV (``ttlv``), tag/enumeration tables (``tags``), the XML and JSON
encodings (``xml_encoding``, ``json_encoding``), OASIS test-case loading (``testcases``),
test-case placeholders (``placeholders``) and a throughput benchmark (``bench``)."""
