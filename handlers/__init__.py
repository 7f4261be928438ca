"""What the bot does for each kind of message or event: one small async function each."""
