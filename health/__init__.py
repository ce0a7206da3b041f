"""Is pengaduan well? Verdicts per collector (check), Prometheus figures (metrics), the HTTP
endpoint serving both (server), and e-mail to an admin when a verdict changes (alerts)."""
