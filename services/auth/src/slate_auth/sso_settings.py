"""Settings of single sign-on (SAML, OIDC) and FIDO2/WebAuthn, mixed into AuthSettings
(so their environment variables are ``SLATE_AUTH_SAML_ENABLED`` and so on).

SAML and OIDC are off by default; the routes then answer Zou's "not enabled" error.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings


class SsoSettings(BaseSettings):
    #: The URL browsers reach Kitsu and the API at: where SSO logins land afterwards, the
    #: base of the SAML ACS and OIDC callback URLs, and the origin FIDO checks.
    public_url: str = "http://localhost:8080"

    saml_enabled: bool = False
    #: Name shown by Kitsu on its SAML login button.
    saml_idp_name: str = ""
    #: The identity provider's metadata, by URL (fetched on first use) or as a local file.
    saml_metadata_url: str = ""
    saml_metadata_file: str = ""
    #: How long the IdP metadata is kept before it is loaded again.
    saml_metadata_refresh_seconds: int = 3600
    #: This service provider's entity id (default: <public_url>/api/auth/saml/metadata).
    saml_entity_id: str = ""
    #: When set, the person is bound to the assertion's issuer and this attribute's value
    #: ("NameID" for the subject's NameID), and the email only finds the account on the
    #: first login. When empty, the email finds the account at every login.
    saml_subject_attribute: str = ""
    saml_email_attribute: str = "email"
    saml_first_name_attribute: str = "first_name"
    saml_last_name_attribute: str = "last_name"

    oidc_enabled: bool = False
    oidc_idp_name: str = ""
    #: The provider's issuer; its discovery document is <issuer>/.well-known/openid-configuration.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scope: str = "openid email profile"
    #: Refuse an ID token whose email_verified claim is not true.
    oidc_require_verified_email: bool = True

    #: How long a started SSO login or a FIDO challenge stays usable.
    sso_state_seconds: int = 600

    fido_rp_name: str = "Kitsu"
    #: The WebAuthn relying party id (default: the host of public_url).
    fido_rp_id: str = ""

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def saml_acs_url(self) -> str:
        return self.public_base + "/api/auth/saml/sso"

    @property
    def saml_sp_entity_id(self) -> str:
        return self.saml_entity_id or self.public_base + "/api/auth/saml/metadata"

    @property
    def oidc_redirect_uri(self) -> str:
        return self.public_base + "/api/auth/oidc/callback"

    @property
    def effective_fido_rp_id(self) -> str:
        """The configured RP id, else the public host; never an IP address (WebAuthn
        refuses those), "localhost" instead."""
        if self.fido_rp_id:
            return self.fido_rp_id
        host = urlsplit(self.public_url).hostname or "localhost"
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return host
        return "localhost"

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"
