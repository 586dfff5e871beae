"""bootstrap-bot: keeps openMCP landscapes rendered, reviewed and applied through pull requests."""

__version__ = "0.1.0"
