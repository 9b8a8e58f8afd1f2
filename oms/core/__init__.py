"""The domain core: errors, time, money, the rulebook (rules, schema), settings and input checks.
It imports nothing else of ours; everything else may import it."""
