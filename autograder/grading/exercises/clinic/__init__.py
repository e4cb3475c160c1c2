"""The pitfalls clinic of lesson 11: one module per pitfall, each a broken program's repair
judged on the broker. Every module lists its exercises in a module-level ``EXERCISES`` tuple;
``lesson11`` gathers them in file-name order."""
