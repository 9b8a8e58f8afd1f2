"""The hand-offs between ordering, crm and wms: credit checks, reservation, backorders, and the
placement passes that decide orders placed at the same moment together."""
