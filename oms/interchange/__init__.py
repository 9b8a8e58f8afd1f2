"""Files in and out: import formats (CSV, JSON, XML, DXL), the import pipeline and its claims of
external references, exports, and the customer and stock feeds."""
