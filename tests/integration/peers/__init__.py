"""The test peers themselves: the fakes checked against the real contracts, the real peers
started right."""
