"""Web push: keys, subscriptions, notifications and their delivery."""
