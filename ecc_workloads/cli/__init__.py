"""The `ecc` command: one typer app (`app`) and a module per group of commands; each
command parses options into a contract and calls a pipeline that lives outside this package."""
