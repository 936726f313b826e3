"""Get a Maskinporten token from the broker, signed with botocore's SigV4Auth and the standard AWS credentials.

Usage: TOKEN_BROKER_URL=https://<api>/prod AWS_REGION=eu-north-1 python3 get_token.py skatteetaten:mva
Needs botocore (`pip install botocore`); the HTTP call is the standard library's urllib.
"""

import json
import os
import sys
import urllib.error
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


class TokenBrokerError(Exception):
    """The broker's problem+json answer (or API Gateway's refusal), with its stable code."""

    def __init__(self, status, problem):
        self.status = status
        self.code = problem.get("code", "gateway_rejected")
        self.detail = problem.get("detail") or problem.get("message", "")
        super().__init__(f"{status} {self.code}: {self.detail}")


def get_token(endpoint, region, scope, min_ttl=30):
    """POST /token signed with the caller's own AWS credentials (environment, profile, SSO, role...)."""
    credentials = botocore.session.Session().get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials found")
    body = json.dumps({"scope": scope, "min_ttl": min_ttl}).encode()
    request = AWSRequest("POST", f"{endpoint.rstrip('/')}/token", data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    http = urllib.request.Request(request.url, data=body, headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        try:
            problem = json.load(error)
        except ValueError:
            problem = {}
        raise TokenBrokerError(error.code, problem) from None


if __name__ == "__main__":
    token = get_token(os.environ["TOKEN_BROKER_URL"], os.environ.get("AWS_REGION", "eu-north-1"),
                      sys.argv[1] if len(sys.argv) > 1 else "skatteetaten:mva")
    print(json.dumps({"token_type": token["token_type"], "expires_in": token["expires_in"],
                      "scope": token["scope"], "access_token": token["access_token"][:12] + "..."}))
