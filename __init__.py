"""pengaduan: every public complaint to the office in one deduplicated handling queue."""

__version__ = "0.1.0"
