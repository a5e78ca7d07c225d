"""rolehop: a self-hosted, AWS-compatible identity plane for multi-account organizations."""

__version__ = "0.1.0"
