"""Running Frontline for a trust: backups, metrics, TLS for trying it on a phone."""
