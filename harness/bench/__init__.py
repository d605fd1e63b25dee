"""Benchmarks of the reference codecs against their third-party peers (``kplab bench``).

A benchmark prints figures and the ratio against the peer measured in the same run; it is
never a timed test (tests only check that the figures are produced and that both sides
did the same work).  Modules: ``measure`` (clocks, memory, tables), ``pskc_corpus``
(generated PSKC containers, cached), ``pskc`` (decode throughput and streaming memory),
``pskc_stream_child`` (the decoder process whose peak RSS is measured), ``kmip`` (TTLV).
"""
