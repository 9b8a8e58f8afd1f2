"""The store adapter: CouchDB requests and their errors, claims settled on every copy, group
commit, order numbers and Idempotency-Key records."""
