"""The development stack: the embedded CouchDB, the demo LDAP directory, the runtime that starts
them, and the demo data. Imported only by the CLI, tests and benchmarks."""
