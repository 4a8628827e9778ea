import asyncio

from dialer.runtime.leases import CampaignLeases


async def test_sqlite_owns_everything(sqlite_url):
    leases = CampaignLeases(sqlite_url)
    assert not leases.exclusive
    assert await leases.renew({1, 2}) == {1, 2}


async def test_postgres_lease_is_exclusive_and_passes_on_when_owner_dies(pg_url):
    first, second = CampaignLeases(pg_url), CampaignLeases(pg_url)
    try:
        assert await first.renew({1, 2}) == {1, 2}
        assert await second.renew({1, 2, 3}) == {3}
        assert await first.renew({1}) == {1}  # released 2
        assert await second.renew({1, 2, 3}) == {2, 3}
        first._conn.terminate()  # the owner dies: its connection goes away
        for _ in range(50):  # the server notices the closed socket within moments
            if await second.renew({1, 2, 3}) == {1, 2, 3}:
                break
            await asyncio.sleep(0.05)
        assert second.owned == {1, 2, 3}
    finally:
        await first.close()
        await second.close()
