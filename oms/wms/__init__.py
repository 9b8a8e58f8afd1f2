"""The warehouse: stock per SKU and warehouse, holds for order lines, shipments."""
