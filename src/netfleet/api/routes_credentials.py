"""``/api/v1/credentials``: write-only secrets, encrypted at rest by the store.

Responses carry usernames and ``has_*`` flags only. Replacing a credential
(rotation) bumps the generation of every device using it (naming it, or through a
group default); the embedded pool retires those devices' sessions at once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from netfleet.api.auth import Admin, Viewer
from netfleet.api.context import context, store_of
from netfleet.api.problems import responses
from netfleet.api.schemas_inventory import (
    CredentialFields,
    CredentialIn,
    CredentialList,
    CredentialOut,
)
from netfleet.core.errors import Conflict, NotFound
from netfleet.core.logging import register_secret
from netfleet.core.models import Credential
from netfleet.store import SqlStore
from netfleet.store.records import CredentialRecord

router = APIRouter(tags=["credentials"])


async def _find(store: SqlStore, name: str) -> CredentialRecord | None:
    return next((c for c in await store.credentials.list() if c.name == name), None)


async def _store(request: Request, credential: Credential) -> CredentialOut:
    register_secret(*credential.secrets())
    record = await store_of(request).credentials.upsert(credential)
    request.state.audit = {"credential": credential.name}
    return CredentialOut.of(record)


@router.get("/credentials", response_model=CredentialList, summary="List credentials")
async def list_credentials(request: Request, _: Viewer) -> CredentialList:
    items = await store_of(request).credentials.list()
    return CredentialList(items=[CredentialOut.of(c) for c in items])


@router.post(
    "/credentials",
    response_model=CredentialOut,
    status_code=201,
    summary="Create a credential (secrets are write-only)",
    responses=responses(409),
)
async def create_credential(request: Request, _: Admin, body: CredentialIn) -> CredentialOut:
    if await _find(store_of(request), body.name) is not None:
        raise Conflict(f"credential {body.name!r} exists already (PUT it to rotate it)")
    return await _store(request, body.to_credential(body.name))


@router.get(
    "/credentials/{name}",
    response_model=CredentialOut,
    summary="Show a credential (without secrets)",
    responses=responses(404),
)
async def get_credential(request: Request, _: Viewer, name: str) -> CredentialOut:
    found = await _find(store_of(request), name)
    if found is None:
        raise NotFound(f"credential {name!r} not found")
    return CredentialOut.of(found)


@router.put(
    "/credentials/{name}",
    response_model=CredentialOut,
    summary="Replace (rotate) a credential",
    responses=responses(404),
)
async def put_credential(
    request: Request, _: Admin, name: str, body: CredentialFields
) -> CredentialOut:
    store = store_of(request)
    if await _find(store, name) is None:
        raise NotFound(f"credential {name!r} not found (POST to create it)")
    out = await _store(request, body.to_credential(name))
    context(request).retire(await store.credentials.users(name))
    return out


@router.delete(
    "/credentials/{name}",
    status_code=204,
    summary="Delete a credential (not while a device uses it)",
    responses=responses(404, 409),
)
async def delete_credential(request: Request, _: Admin, name: str) -> Response:
    await store_of(request).credentials.delete(name)
    request.state.audit = {"credential": name}
    return Response(status_code=204)
