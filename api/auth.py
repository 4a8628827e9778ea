"""Login (username + password -> an expiring bearer token), users and API keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from api.paging import DbId
from api.security import Admin, AnyUser, Ctx
from dialer.db.enums import Role
from dialer.db.models import User
from dialer.services import users as service
from dialer.services.errors import NotFound

router = APIRouter(prefix="/v1", tags=["auth"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    ttl_hours: float = Field(default=12, gt=0, le=24 * 30)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None
    role: str
    agent_id: DbId | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@\-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    display_name: str = Field(default="", max_length=200)
    agent_id: DbId | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    agent_id: DbId | None
    active: bool


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: DbId
    name: str = Field(default="", max_length=100)
    ttl_days: float | None = Field(default=None, gt=0, le=3650)


class KeyOut(BaseModel):
    id: int
    key: str = Field(description="shown once; only its hash is stored")
    prefix: str
    role: str
    expires_at: datetime | None


@router.post("/auth/token", response_model=TokenOut)
async def issue_token(ctx: Ctx, body: TokenRequest) -> TokenOut:
    try:
        user = await service.authenticate(ctx.session_factory, body.username, body.password)
    except NotFound:
        raise HTTPException(401, "unknown user or wrong password") from None
    issued = await service.issue_key(
        ctx.session_factory, user, name="login", ttl=timedelta(hours=body.ttl_hours)
    )
    return TokenOut(
        access_token=issued.secret,
        expires_at=issued.expires_at,
        role=issued.role,
        agent_id=user.agent_id,
    )


@router.get("/auth/me")
async def me(who: AnyUser) -> dict[str, Any]:
    return {"username": who.username, "role": who.role, "agent_id": who.agent_id}


@router.get("/users", response_model=list[UserOut])
async def list_users(ctx: Ctx, _: Admin) -> Any:
    return await service.list_users(ctx.session_factory)


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(ctx: Ctx, _: Admin, body: UserCreate) -> Any:
    return await service.create_user(
        ctx.session_factory,
        body.username,
        body.password,
        body.role,
        display_name=body.display_name,
        agent_id=body.agent_id,
    )


@router.post("/api-keys", response_model=KeyOut, status_code=201)
async def create_key(ctx: Ctx, _: Admin, body: KeyCreate) -> KeyOut:
    async with ctx.session_factory() as session:
        user = await session.get(User, body.user_id)
    if user is None:
        raise NotFound(f"no user {body.user_id}")
    ttl = timedelta(days=body.ttl_days) if body.ttl_days else None
    issued = await service.issue_key(ctx.session_factory, user, name=body.name, ttl=ttl)
    return KeyOut(
        id=issued.id,
        key=issued.secret,
        prefix=issued.prefix,
        role=issued.role,
        expires_at=issued.expires_at,
    )


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_key(ctx: Ctx, _: Admin, key_id: DbId) -> Response:
    await service.revoke_key(ctx.session_factory, key_id)
    return Response(status_code=204)
