"""The `oms` command: `main` holds the server commands, `operations` the ones that talk to a
running system (import, export, agents, tokens, webhooks)."""
