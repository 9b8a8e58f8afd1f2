"""Who is asking: the ACL, people and their CouchDB accounts, the directory (LDAP), API tokens."""
