"""The catalog: products, price lists, prices, tax and price approval (rules/pricing.json)."""
