"""DSKPP (RFC 6063) conformance suites: protocol, schema, fuzz and timing."""
