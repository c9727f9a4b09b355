"""The edge agent: its loop (`runner`), HTTP server, local model, learning, spool, auth and
store credentials."""
