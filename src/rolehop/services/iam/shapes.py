"""Entities -> the output shapes of botocore's IAM model (member names as AWS spells them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from rolehop.core.entities import AccessKey, Identity, ManagedPolicy, PolicyVersion, Tag
from rolehop.services.iam.common import tag_shapes


def user_shape(
    user: Identity, tags: list[Tag] | None = None, password_last_used: datetime | None = None
) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.unique_id,
        "Arn": user.arn,
        "CreateDate": user.created_at,
    }
    if user.boundary_arn:
        shape["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": user.boundary_arn,
        }
    if password_last_used is not None:
        shape["PasswordLastUsed"] = password_last_used
    if tags:
        shape["Tags"] = tag_shapes(tags)
    return shape


def group_shape(group: Identity) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.unique_id,
        "Arn": group.arn,
        "CreateDate": group.created_at,
    }


def policy_shape(policy: ManagedPolicy, tags: list[Tag] | None = None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version_id,
        "AttachmentCount": policy.attachment_count,
        "PermissionsBoundaryUsageCount": policy.boundary_count,
        "IsAttachable": True,
        "CreateDate": policy.created_at,
        "UpdateDate": policy.updated_at,
    }
    if policy.description:
        shape["Description"] = policy.description
    if tags:
        shape["Tags"] = tag_shapes(tags)
    return shape


def version_shape(
    version: PolicyVersion, default_version_id: str, *, document: bool = True
) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.version_id == default_version_id,
        "CreateDate": version.created_at,
    }
    if document:
        # IAM returns documents URL-encoded (RFC 3986) in the XML; botocore decodes them
        shape["Document"] = quote(version.document, safe="")
    return shape


def access_key_shape(key: AccessKey, user_name: str | None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": key.created_at,
    }
    if user_name:
        shape["UserName"] = user_name
    return shape
