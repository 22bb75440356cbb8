"""SAML 2.0 service provider (pysaml2; signatures checked by the xmlsec1 binary).

Login: an AuthnRequest sent to the IdP with the HTTP-Redirect binding; its id is kept
(``sso_state``) so that only a response to a request we made is accepted, once. The
ACS takes the HTTP-POST binding; the response or its assertion must be signed by a key
of the IdP's metadata, and must be addressed to us and within its validity window.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from slate_common.logging import get_logger

from ..sso_settings import SsoSettings
from .sso import ExternalIdentity, SsoError, SsoUnavailable

if TYPE_CHECKING:  # pysaml2 is imported on first use: it is a third of auth's start-up time
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

PROVIDER = "saml"

log = get_logger(__name__)


def sp_config(settings: SsoSettings, *, metadata_xml: str | None) -> SPConfig:
    """The service provider's configuration (without IdP metadata: enough to describe
    this SP in its own metadata)."""
    from saml2 import BINDING_HTTP_POST
    from saml2.config import SPConfig

    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise SsoUnavailable("SAML needs the xmlsec1 program, which is not installed.")
    config = SPConfig()
    config.load({
        "entityid": settings.saml_sp_entity_id,
        "xmlsec_binary": xmlsec,
        **({"metadata": {"inline": [metadata_xml]}} if metadata_xml else {}),
        "allow_unknown_attributes": True,
        "accepted_time_diff": 60,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(settings.saml_acs_url, BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            "want_response_signed": False,
            "want_assertions_signed": False,
            "want_assertions_or_response_signed": True,
            "authn_requests_signed": False,
            "name_id_format_allow_create": True,
        }},
    })
    return config


class SamlServiceProvider:
    """The pysaml2 client, built on first use from the IdP's metadata and again once the
    metadata is older than ``saml_metadata_refresh_seconds`` (the IdP rotates keys)."""

    def __init__(self, settings: SsoSettings) -> None:
        self.settings = settings
        self._client: Saml2Client | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def _metadata(self) -> str:
        if self.settings.saml_metadata_file:
            return await asyncio.to_thread(Path(self.settings.saml_metadata_file).read_text)
        if not self.settings.saml_metadata_url:
            raise SsoUnavailable("SAML is enabled but no identity provider metadata is configured.")
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                response = await http.get(self.settings.saml_metadata_url)
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SsoUnavailable("The SAML identity provider's metadata could not be loaded.") from exc
        return response.text

    async def client(self) -> Saml2Client:
        async with self._lock:
            stale = time.monotonic() - self._loaded_at > self.settings.saml_metadata_refresh_seconds
            if self._client is None or stale:
                try:
                    config = sp_config(self.settings, metadata_xml=await self._metadata())
                    from saml2.client import Saml2Client

                    self._client = await asyncio.to_thread(Saml2Client, config)
                except SsoError:
                    if self._client is None:
                        raise
                    log.warning("saml_metadata_refresh_failed")  # keep the metadata we have
                except Exception as exc:
                    if self._client is None:
                        raise SsoUnavailable("The SAML identity provider's metadata is invalid.") from exc
                    log.warning("saml_metadata_refresh_failed", reason=type(exc).__name__)
                self._loaded_at = time.monotonic()
            return self._client


def authn_request(client: Saml2Client) -> tuple[str, str]:
    """A new AuthnRequest: (its id, the IdP URL to redirect the browser to)."""
    from saml2 import BINDING_HTTP_REDIRECT

    request_id, info = client.prepare_for_authenticate(binding=BINDING_HTTP_REDIRECT)
    location = dict(info["headers"])["Location"]
    return str(request_id), location


def _first(ava: dict[str, list[Any]], *names: str) -> str:
    lowered = {k.lower(): v for k, v in ava.items()}
    for name in names:
        values = lowered.get(name.lower())
        if values:
            return str(values[0]).strip()
    return ""


def read_response(
    client: Saml2Client, *, saml_response: str, outstanding: list[str], settings: SsoSettings
) -> tuple[str, ExternalIdentity]:
    """Check a posted SAMLResponse (blocking: runs xmlsec1); returns the id of the request
    it answers and the identity it asserts. Anything wrong is an :class:`SsoError`."""
    from saml2 import BINDING_HTTP_POST

    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={key: "/" for key in outstanding}
        )
    except SsoError:
        raise
    except Exception as exc:  # pysaml2 raises many types: signature, time, audience, xml
        log.info("saml_response_refused", reason=type(exc).__name__, detail=str(exc)[:200])
        raise SsoError("Wrong SAML response.") from exc
    if response is None or response.assertion is None:
        raise SsoError("Wrong SAML response.")
    ava = response.get_identity() or {}
    issuer = response.issuer() or ""
    subject: str | None = None
    if settings.saml_subject_attribute:
        if settings.saml_subject_attribute.lower() == "nameid":
            subject = response.name_id.text if response.name_id is not None else ""
        else:
            subject = _first(ava, settings.saml_subject_attribute)
        if not subject:
            raise SsoError("The SAML assertion has no subject.")
    identity = ExternalIdentity(
        provider=PROVIDER,
        issuer=issuer,
        subject=subject,
        email=_first(ava, settings.saml_email_attribute, "email", "mail", "emailAddress"),
        first_name=_first(ava, settings.saml_first_name_attribute, "first_name", "givenName"),
        last_name=_first(ava, settings.saml_last_name_attribute, "last_name", "sn", "surname"),
    )
    return str(response.in_response_to or ""), identity
