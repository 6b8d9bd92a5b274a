"""The registry: who must be monitored (enterprises, outlets, monitoring points,
permits, meters), its import from CSV/XLSX, and its coverage."""
