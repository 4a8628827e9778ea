"""Campaign creation and the summary."""

from __future__ import annotations

import io

import pytest

from dialer.db.models import CallAttempt
from dialer.leads.campaigns import CampaignExists, campaign_summary, create_campaign, find_campaign
from dialer.leads.importer import import_leads
from tests.leads.helpers import campaign_db


async def test_create_checks_values_and_names(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        campaign = await create_campaign(
            db.session_factory, "晚间", dial_mode="ratio", recording_mode="on_demand"
        )
        assert (campaign.dial_mode, campaign.recording_mode) == ("ratio", "on_demand")
        assert campaign.compliance_profile == ["CN"] and campaign.status == "draft"
        with pytest.raises(CampaignExists):
            await create_campaign(db.session_factory, "晚间")
        with pytest.raises(ValueError):
            await create_campaign(db.session_factory, "x", dial_mode="telepathic")
        with pytest.raises(TypeError):
            await create_campaign(db.session_factory, "y", colour="red")
        found = await find_campaign(db.session_factory, "晚间")
        assert found is not None and found.id == campaign.id
        assert (await find_campaign(db.session_factory, str(campaign.id))) is not None


async def test_summary_counts(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        data = b"phone,name\n13812345678,a\n13912345678,b\n+1 305 555 0123,c\n"
        await import_leads(
            db.session_factory,
            db.campaign_id,
            io.BytesIO(data),
            filename="x.csv",
            default_region="CN",
        )
        async with db.session_factory() as session, session.begin():
            for n, disposition in enumerate(["SALE", "SALE", None]):
                session.add(
                    CallAttempt(
                        id=f"att-{n}",
                        campaign_id=db.campaign_id,
                        number_dialed="+8613812345678",
                        disposition=disposition,
                    )
                )
        summary = await campaign_summary(db.session_factory, db.campaign_id)
    assert summary.leads_total == 3 and summary.lead_lists == 1
    assert summary.leads_by_status == {"new": 3}
    assert summary.leads_by_region == {"CN": 2, "US": 1}
    assert summary.attempts_by_disposition == {"SALE": 2, "": 1}
    assert summary.attempts_total == 3
