"""The HJ 212 ingest gateway: TCP in, durable store, acknowledgements out."""
