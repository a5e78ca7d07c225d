"""A PostgreSQL store out of reach or too slow is ServiceUnavailable (store.conflicts), whose message
and log line name neither the database's address nor the driver's words; every connection carries
the statement and lock timeouts that keep a request from waiting on the database for long."""

from __future__ import annotations

import logging

import pytest

from rolehop.core.errors import ServiceUnavailable
from rolehop.store.sql import SqlStore
from tcp_proxy import TcpProxy


def test_a_statement_past_its_timeout_is_service_unavailable(pg_url: str) -> None:
    store = SqlStore(pg_url)
    with pytest.raises(ServiceUnavailable), store.transaction() as tx:
        tx.c.exec_driver_sql("SET LOCAL statement_timeout = '50ms'")
        tx.c.exec_driver_sql("SELECT pg_sleep(5)")  # canceled by the server: 57014
    with store.transaction() as tx:  # the connection is fine afterwards
        assert tx.c.exec_driver_sql("SELECT 1").scalar() == 1
    store.close()


def test_every_postgres_connection_carries_statement_and_lock_timeouts(pg_url: str) -> None:
    store = SqlStore(pg_url)
    with store.transaction() as tx:
        assert tx.c.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"
        assert tx.c.exec_driver_sql("SHOW lock_timeout").scalar() == "10s"
    store.close()


def test_a_lost_database_is_service_unavailable_and_its_address_stays_out_of_logs(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = TcpProxy(("127.0.0.1", 5432))
    store = SqlStore(pg_url.replace("127.0.0.1:5432", proxy.address))
    try:
        proxy.cut()
        caplog.set_level(logging.WARNING, "rolehop.store")
        with pytest.raises(ServiceUnavailable) as exc, store.transaction() as tx:
            tx.c.exec_driver_sql("SELECT 1")
        assert exc.value.status == 503 and exc.value.code == "ServiceUnavailable"
        assert "ServiceUnavailable" in caplog.text
        for leak in (str(proxy.port), "127.0.0.1", "postgres", "refused"):
            assert leak not in exc.value.message and leak not in caplog.text, leak
    finally:
        store.close()
        proxy.close()
