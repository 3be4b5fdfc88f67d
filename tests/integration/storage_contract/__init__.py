"""The storage conformance suite: every Storage implementation must pass it.

SQLite runs it now; the PostgreSQL store of the scale-out mode will be added to STORES
(stores.py), with how to open it for writing and read-only (the same data: what the first
writes, the second reads). The files split it by what the store keeps: the change log and its
transactions, the reads behind retention, exports and snapshots, and the Web Push tables.
"""
