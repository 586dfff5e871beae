"""The differential fuzzer of the template engine against Go (`make fuzz`)."""
