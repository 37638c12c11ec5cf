"""Web push: VAPID keys, browser subscriptions, the delivery queue and its worker (SPEC §6, §7)."""
