"""Real peers for tests, each started on 127.0.0.1 with a free port and stopped afterwards."""
