"""Real protocol peers for the SSO tests, served over HTTP on 127.0.0.1 (free ports):

- :class:`SamlIdp`: a SAML 2.0 identity provider made with pysaml2's ``Server`` (signs
  with its own key through xmlsec1), publishing its metadata and answering AuthnRequests
  (HTTP-Redirect binding) with an auto-posting form (HTTP-POST binding), as a browser sees.
- :class:`OidcProvider`: an OpenID Connect provider made with authlib's authorization
  server (authorization code + PKCE + OpenID ``id_token`` signed RS256), with discovery
  and JWKS documents.

Each has a ``user`` (who "logs in" at the provider next) and a few knobs to misbehave
(unsigned assertions, a wrong nonce, a token signed by a stranger's key).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, Response, request
from werkzeug.serving import make_server


class ServedApp:
    """A WSGI app on 127.0.0.1 on a free port, in a thread; ``close()`` stops it."""

    def __init__(self, app: Any) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """An RSA key and a self-signed certificate, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def form_fields(page: str) -> dict[str, str]:
    """The hidden inputs of an auto-posting HTML form."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value:
            fields[name.group(1)] = html.unescape(value.group(1))
    return fields


class SamlIdp:
    def __init__(self, directory: Path, sp_metadata: str) -> None:
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
        from saml2.config import IdPConfig
        from saml2.metadata import create_metadata_string
        from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
        from saml2.server import Server

        self.user: dict[str, str] = {}
        self.sign_assertion = True
        self.requests_seen: list[str] = []
        app = Flask("test-saml-idp")
        self.http = ServedApp(app)
        key, cert = self_signed(directory, "saml-idp")
        config = IdPConfig()
        config.load({
            "entityid": self.http.base + "/metadata",
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": str(key),
            "cert_file": str(cert),
            "metadata": {"inline": [sp_metadata]},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.http.base + "/sso/redirect", BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
            }},
        })
        self.server = Server(config=config)
        self.metadata = create_metadata_string(None, config=config).decode()

        @app.get("/metadata")
        def metadata() -> Response:
            return Response(self.metadata, mimetype="application/samlmetadata+xml")

        @app.get("/sso/redirect")
        def sso() -> Response:
            parsed = self.server.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
            self.requests_seen.append(parsed.message.id)
            args = self.server.response_args(parsed.message)
            identity = {"mail": [self.user["email"]], "givenName": [self.user["first_name"]],
                        "sn": [self.user["last_name"]], "uid": [self.user["uid"]]}
            name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=self.user["uid"])
            response = self.server.create_authn_response(
                identity, name_id=name_id, authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
                sign_assertion=self.sign_assertion, sign_response=False, **args,
            )
            http_args = self.server.apply_binding(BINDING_HTTP_POST, str(response), args["destination"],
                                                  request.args.get("RelayState", ""), response=True)
            return Response(http_args["data"], mimetype="text/html")

    def close(self) -> None:
        self.http.close()


class _Client:
    """The one OAuth client registered at the test provider (Slate)."""

    def __init__(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.client_id, self.secret, self.redirect_uri = client_id, secret, redirect_uri

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "email", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic" if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _Code:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)
        self.auth_time = int(time.time())

    def get_redirect_uri(self) -> str:
        return self.redirect_uri  # type: ignore[no-any-return]

    def get_scope(self) -> str:
        return self.scope  # type: ignore[no-any-return]

    def get_nonce(self) -> str | None:
        return self.nonce  # type: ignore[no-any-return]

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return False


class OidcProvider:
    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        from authlib.integrations.flask_oauth2 import AuthorizationServer
        from authlib.oauth2.rfc6749 import grants
        from authlib.oauth2.rfc7636 import CodeChallenge
        from authlib.oidc.core import UserInfo
        from authlib.oidc.core.grants import OpenIDCode
        from joserfc.jwk import RSAKey

        self.user: dict[str, Any] = {}
        self.nonce_override: str | None = None
        self.sign_with_stranger_key = False
        self.key = RSAKey.generate_key(2048, parameters={"kid": "op-key-1", "use": "sig", "alg": "RS256"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "op-key-1", "use": "sig", "alg": "RS256"})
        self.client = _Client(client_id, client_secret, redirect_uri)
        self.codes: dict[str, _Code] = {}
        app = Flask("test-oidc-provider")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 300}
        self.http = ServedApp(app)
        issuer = self.http.base
        provider = self

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic",)

            def save_authorization_code(self, code: str, req: Any) -> None:
                payload = req.payload
                provider.codes[code] = _Code(
                    code=code, client_id=req.client.client_id, redirect_uri=payload.redirect_uri,
                    scope=payload.scope, nonce=payload.data.get("nonce"), user=dict(req.user),
                    code_challenge=payload.data.get("code_challenge"),
                    code_challenge_method=payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Any) -> _Code | None:
                return provider.codes.get(code)

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> dict[str, Any]:
                return authorization_code.user  # type: ignore[no-any-return]

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return False

            def resolve_client_private_key(self, client: Any) -> Any:
                return provider.stranger if provider.sign_with_stranger_key else provider.key

            def get_client_claims(self, client: Any) -> dict[str, Any]:
                return {"iss": issuer, "aud": [client.get_client_id()], "exp": int(time.time()) + 300}

            def get_encode_header(self, client: Any) -> dict[str, str]:
                return {"alg": "RS256", "kid": "op-key-1"}

            def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.nonce_override is not None:
                    claims["nonce"] = provider.nonce_override
                return claims

            def generate_user_info(self, user: dict[str, Any], scope: str) -> Any:
                return UserInfo(sub=user["sub"], email=user["email"], email_verified=user.get("email_verified", True),
                                given_name=user.get("given_name", ""), family_name=user.get("family_name", ""))

        server = AuthorizationServer(app, query_client=lambda cid: self.client if cid == self.client.client_id else None,
                                     save_token=lambda token, req: None)
        server.register_grant(CodeGrant, [CodeChallenge(required=True), IdToken(require_nonce=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return {
                "issuer": issuer,
                "authorization_endpoint": issuer + "/authorize",
                "token_endpoint": issuer + "/token",
                "jwks_uri": issuer + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        def jwks() -> Any:
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize() -> Any:
            # The person is already signed in at the provider and consents at once.
            return server.create_authorization_response(grant_user=dict(self.user))

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        self.issuer = issuer

    def close(self) -> None:
        self.http.close()


def new_uid() -> str:
    return uuid.uuid4().hex[:12]


__all__ = ["OidcProvider", "SamlIdp", "ServedApp", "form_fields", "new_uid"]
