"""pengaduan collector for the regency website's contact form (JSON export over HTTP)."""

__version__ = "0.1.0"
