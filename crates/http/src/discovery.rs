//! How mail clients discover this server by themselves: Thunderbird's
//! autoconfig and Outlook's autodiscover (POX). The documents are built in
//! [`crate::clientconfig`].
//!
//! Both answer without a sign-in (clients ask before they have one) and say
//! the same for every address of an accepted domain: they reveal the
//! server's names and ports, never whether a mailbox exists.

use http::{StatusCode, header};
use mailroom_types::{DomainName, EmailAddress};

use crate::clientconfig;
use crate::form::Form;
use crate::{Head, Request, Response, Web, answer};

/// `GET /.well-known/autoconfig/mail/config-v1.1.xml` and
/// `GET /mail/config-v1.1.xml?emailaddress=…`.
pub(crate) async fn autoconfig(web: &Web, head: &Head) -> Response {
    let query = Form::parse(head.query.as_deref().unwrap_or("").as_bytes());
    let from_address = EmailAddress::parse(query.get("emailaddress").trim()).ok().map(|a| a.domain().clone());
    // Thunderbird asks autoconfig.<domain> for the mail domain's settings.
    let from_host = head
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .map(|h| h.strip_prefix("autoconfig.").unwrap_or(h))
        .and_then(|h| DomainName::parse(h).ok());
    let dir = web.mail().directory();
    let domain = match from_address.or(from_host) {
        Some(domain) if dir.is_accepted_domain(&domain).await.unwrap_or(false) => domain,
        _ => match dir.default_domain().await {
            Ok(domain) if query.get("emailaddress").is_empty() => domain,
            _ => {
                return answer(
                    StatusCode::NOT_FOUND,
                    "text/plain; charset=utf-8",
                    "This server doesn't hold mail for that domain.\n",
                );
            }
        },
    };
    let body = clientconfig::autoconfig(&web.config.client, domain.as_str());
    answer(StatusCode::OK, "application/xml; charset=utf-8", body)
}

/// Autodiscover is a POST; a GET gets the protocol's error document.
pub(crate) fn autodiscover_get() -> Response {
    answer(
        StatusCode::OK,
        "text/xml; charset=utf-8",
        clientconfig::autodiscover_error(600, "Invalid Request"),
    )
}

/// `POST /autodiscover/autodiscover.xml` (MS-OXDSCLI, the POX protocol).
pub(crate) async fn autodiscover(web: &Web, request: &Request) -> Response {
    let xml = |body: String| answer(StatusCode::OK, "text/xml; charset=utf-8", body);
    if let Some(schema) = clientconfig::autodiscover_request_schema(&request.body)
        && schema.trim() != clientconfig::OUTLOOK_RESPONSE_SCHEMA
    {
        return xml(clientconfig::autodiscover_error(601, "Provider is not available"));
    }
    let Some(address) = clientconfig::autodiscover_request_address(&request.body) else {
        return xml(clientconfig::autodiscover_error(600, "Invalid Request"));
    };
    let Ok(address) = EmailAddress::parse(address.trim()) else {
        return xml(clientconfig::autodiscover_error(600, "Invalid Request"));
    };
    if !web.mail().directory().is_accepted_domain(address.domain()).await.unwrap_or(false) {
        return xml(clientconfig::autodiscover_error(600, "Invalid Request"));
    }
    let address = address.to_string();
    xml(clientconfig::autodiscover_response(&web.config.client, &address, &address))
}
