"""Requests to the IAM-authorized routes, SigV4-signed as an operator's tool signs them with its credentials."""

from __future__ import annotations

import json
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_LOCAL = Credentials("local", "local")


def signed(method: str, url: str, body: Any = None, region: str = "us-east-1") -> httpx.Response:
    content = json.dumps(body).encode() if body is not None else b""
    headers = {"content-type": "application/json"} if body is not None else {}
    request = AWSRequest(method=method, url=url, data=content, headers=headers)
    SigV4Auth(_LOCAL, "execute-api", region).add_auth(request)
    return httpx.request(method, url, headers=dict(request.headers), content=content, timeout=30)
