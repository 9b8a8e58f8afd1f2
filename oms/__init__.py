"""Order Desk, by capability, each package importing only those below it (tests/unit/test_import_rules.py):

    core         errors, clock, money, the rulebook (rules, schema), settings, input checks
    store        the CouchDB adapter: requests, settled claims, group commit, numbers, idempotency
    identity     the ACL, people, the directory, API tokens
    crm          customers and their credit exposure
    ordering     orders, their workflow and the order API
    wms          stock and shipments
    fulfilment   the hand-offs between them: credit, reservation, placement passes
    agents       scheduled jobs signed by the system identity, and the notifications they leave
    interchange  files in and out: CSV/JSON/XML/DXL imports, exports, customer and stock feeds
    devstack     the development servers: embedded CouchDB, demo LDAP, demo data
    cli          the `oms` command
"""
