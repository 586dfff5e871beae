"""The flows end to end: signed deliveries into the bot, the fakes and the real peers behind it."""
