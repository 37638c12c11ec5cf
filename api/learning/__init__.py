"""The shared learning library: ideas that worked, what was tried, and spreading them."""
