"""Cluster mode: gateways, archive writers and rule workers around NATS JetStream
and PostgreSQL (the embedded single process stays the default)."""
