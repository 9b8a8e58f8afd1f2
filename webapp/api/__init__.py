"""The JSON API, /api/v1: the blueprint and the order routes (v1), the rest of the orders, views,
imports, exports and events (orders), the CRM and WMS links (wms), what every handler shares
(support: strict JSON, Idempotency-Key, paging), and the OpenAPI document (openapi)."""
