"""``/api/v1/group-credentials``: a group's default credential, used by the group's
devices that name no credential of their own.

Precedence: a device's own credentials; else the default of the first of its groups
(in the device's group order) that has one. Setting, replacing or removing a default
retires the pooled sessions of the group's devices. Reads for viewers, writes for
admins; only the credential's name and username are shown, never its secrets.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from netfleet.api.auth import Admin, Viewer
from netfleet.api.context import context, store_of
from netfleet.api.problems import responses
from netfleet.store.records import GroupCredentialRecord

router = APIRouter(tags=["credentials"])
GroupName = Field(min_length=1, max_length=255, description="A device group's name.")


class GroupCredentialFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: str = Field(min_length=1, max_length=255, description="A stored credential.")


class GroupCredentialIn(GroupCredentialFields):
    group: str = GroupName


class GroupCredentialOut(BaseModel):
    group: str
    credential: str
    username: str
    devices: int = Field(description="Devices in the group now.")
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, record: GroupCredentialRecord) -> GroupCredentialOut:
        return cls(
            group=record.group,
            credential=record.credential,
            username=record.username,
            devices=record.devices,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class GroupCredentialList(BaseModel):
    items: list[GroupCredentialOut]


async def _set(request: Request, group: str, credential: str) -> GroupCredentialOut:
    record, touched = await store_of(request).credentials.set_group_default(group, credential)
    context(request).retire(touched)
    request.state.audit = {"group": group, "credential": credential}
    return GroupCredentialOut.of(record)


@router.get(
    "/group-credentials",
    response_model=GroupCredentialList,
    summary="List the groups' default credentials",
)
async def list_group_credentials(request: Request, _: Viewer) -> GroupCredentialList:
    items = await store_of(request).credentials.group_defaults()
    return GroupCredentialList(items=[GroupCredentialOut.of(i) for i in items])


@router.post(
    "/group-credentials",
    response_model=GroupCredentialOut,
    summary="Set a group's default credential (replacing any)",
    responses=responses(404, 422),
)
async def post_group_credential(
    request: Request, _: Admin, body: GroupCredentialIn
) -> GroupCredentialOut:
    return await _set(request, body.group, body.credential)


@router.put(
    "/group-credentials/{group}",
    response_model=GroupCredentialOut,
    summary="Set a group's default credential (replacing any)",
    responses=responses(404, 422),
)
async def put_group_credential(
    request: Request, _: Admin, group: str, body: GroupCredentialFields
) -> GroupCredentialOut:
    return await _set(request, group, body.credential)


@router.delete(
    "/group-credentials/{group}",
    status_code=204,
    summary="Remove a group's default credential",
    responses=responses(404),
)
async def delete_group_credential(request: Request, _: Admin, group: str) -> Response:
    touched = await store_of(request).credentials.delete_group_default(group)
    context(request).retire(touched)
    request.state.audit = {"group": group}
    return Response(status_code=204)
