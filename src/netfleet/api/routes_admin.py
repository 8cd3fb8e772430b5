"""Admin routes: API tokens (create returns the token once, list, revoke), the audit
log; and ``whoami`` for any token."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from netfleet.api.auth import Admin, TokenCache, Viewer
from netfleet.api.context import store_of
from netfleet.api.problems import responses
from netfleet.store.sql.tokens import TokenRecord

router = APIRouter(tags=["admin"])


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    role: Literal["viewer", "operator", "admin"] = "viewer"


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: float
    last_used_at: float | None
    revoked: bool

    @classmethod
    def of(cls, record: TokenRecord) -> TokenOut:
        return cls(**record.to_dict())


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself; shown only in this response.")


class TokenList(BaseModel):
    items: list[TokenOut]


class AuditOut(BaseModel):
    id: int
    at: float
    actor: str
    role: str
    method: str
    path: str
    status: int
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: int | None = Field(description="Pass back as `before` for older entries.")


class WhoAmI(BaseModel):
    name: str
    role: str


@router.get("/whoami", response_model=WhoAmI, summary="The token's name and role")
async def whoami(principal: Viewer) -> WhoAmI:
    return WhoAmI(name=principal.name, role=principal.role)


@router.get("/tokens", response_model=TokenList, summary="List API tokens")
async def list_tokens(request: Request, _: Admin) -> TokenList:
    return TokenList(items=[TokenOut.of(t) for t in await store_of(request).tokens.list()])


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Create an API token (the token is returned once)",
    responses=responses(409),
)
async def create_token(request: Request, _: Admin, body: TokenIn) -> TokenCreated:
    record, token = await store_of(request).tokens.create(body.name, body.role)
    request.state.audit = {"token": body.name, "role": body.role}
    return TokenCreated(**TokenOut.of(record).model_dump(), token=token)


@router.delete(
    "/tokens/{name}",
    status_code=204,
    summary="Revoke an API token (for good; 409 for the last admin token)",
    responses=responses(404, 409),
)
async def revoke_token(request: Request, _: Admin, name: str) -> Response:
    await store_of(request).tokens.revoke(name)
    cache: TokenCache = request.app.state.tokens
    cache.clear()
    request.state.audit = {"token": name}
    return Response(status_code=204)


@router.get("/audit", response_model=AuditPage, summary="The audit log, newest first")
async def audit_log(
    request: Request,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> AuditPage:
    entries = await store_of(request).audit.list(limit=limit, before_id=before)
    items = [AuditOut(**e.to_dict()) for e in entries]
    return AuditPage(items=items, next_cursor=items[-1].id if len(items) >= limit else None)
