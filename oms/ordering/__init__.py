"""Orders: the document, its workflow (rules/workflow.json) and the order API."""
