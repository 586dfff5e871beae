"""GitHub, as a GitHub App: authentication, retries, the REST facade and its records."""
