"""The web console: server-rendered pages over the same services as the API (never the store)."""

from rolehop.console.app import build_console as build_console
