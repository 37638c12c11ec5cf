"""Partnership working across organisations (SPEC §2, §4): a partner organisation's users read the
notes about them, acknowledge and answer them, and read their own review pack."""
