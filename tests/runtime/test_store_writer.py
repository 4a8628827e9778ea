import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from dialer.runtime.store_writer import StoreWriter
from tests.support.tcp_proxy import TcpProxy

meta = MetaData()
events = Table(
    "writer_events", meta, Column("id", Integer, primary_key=True), Column("v", String(20))
)


def _upsert(i: int, v: str):
    async def op(session):
        stmt = pg_insert(events).values(id=i, v=v)
        await session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"v": v}))

    return op


async def test_bad_write_is_isolated_and_good_ones_land(sqlite_url):
    engine = create_async_engine(sqlite_url)
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    writer = StoreWriter(async_sessionmaker(engine, expire_on_commit=False))
    task = asyncio.create_task(writer.run())

    def insert(i):
        async def op(session):
            await session.execute(events.insert().values(id=i, v=str(i)))

        return op

    for i in (1, 2, 2, 3):  # the second "2" violates the primary key
        writer.submit(insert(i), f"insert {i}")
    assert await writer.flush(5)
    async with engine.connect() as conn:
        ids = (await conn.execute(select(events.c.id).order_by(events.c.id))).scalars().all()
    assert ids == [1, 2, 3]
    assert [label for label, _ in writer.rejected] == ["insert 2"]
    task.cancel()
    await engine.dispose()


@pytest.mark.postgres
async def test_database_outage_holds_writes_and_recovers(pg_database):
    from sqlalchemy.engine import make_url

    url = make_url(pg_database)
    proxy = await TcpProxy(url.host, url.port).start()
    engine = create_async_engine(
        url.set(port=proxy.port), poolclass=NullPool, connect_args={"timeout": 2}
    )
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    writer = StoreWriter(async_sessionmaker(engine, expire_on_commit=False), max_backoff=0.2)
    task = asyncio.create_task(writer.run())
    try:
        writer.submit(_upsert(1, "before"))
        assert await writer.flush(5)
        proxy.cut()
        for i in range(2, 50):
            writer.submit(_upsert(i, "during"))
        writer.submit(_upsert(1, "after"))
        await asyncio.sleep(1.0)
        assert not writer.db_ok
        assert writer.pending == 49
        proxy.restore()
        assert await writer.flush(15)
        assert writer.db_ok and writer.outages == 1 and not writer.rejected
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text("select id, v from writer_events"))).all())
        assert len(rows) == 49 and rows[1] == "after"
    finally:
        task.cancel()
        await engine.dispose()
        await proxy.close()
