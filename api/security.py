"""Bearer-key authentication and role checks, as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.state import AppContext, context
from dialer.db.enums import Role
from dialer.services.users import Principal, resolve_key

bearer = HTTPBearer(auto_error=False, description="an API key or a token from /v1/auth/token")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    principal = await resolve_key(context(request).session_factory, credentials.credentials)
    if principal is None:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets in the given roles (admins always)."""
    allowed = {Role.ADMIN, *roles}

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"role {principal.role!r} may not do this")
        return principal

    return check


Ctx = Annotated[AppContext, Depends(context)]
Admin = Annotated[Principal, Depends(require())]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
AnyUser = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.AGENT))]


def ensure_own_agent(principal: Principal, agent_id: int) -> None:
    """Agents may only act on their own session; supervisors and admins on anyone's."""
    if principal.role == Role.AGENT and principal.agent_id != agent_id:
        raise HTTPException(403, "an agent may only see and change its own session")
