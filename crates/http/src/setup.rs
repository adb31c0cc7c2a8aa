//! "Set up your devices" (`/setup`), for anyone signed in: the settings
//! for any mail app, and an Apple configuration profile (mail and calendar,
//! no password inside) built by [`crate::clientconfig::mobileconfig`].

use askama::Template;
use http::{HeaderValue, StatusCode, header};

use crate::clientconfig;
use crate::pages::{Chrome, html, not_found};
use crate::{Caller, Response, Web, answer, redirect};

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    address: String,
    servers: Vec<(String, String)>,
}

/// `/setup` and `/setup/mailroom.mobileconfig`, for anyone signed in.
pub(crate) async fn page(web: &Web, caller: &Caller, rest: &[&str]) -> Response {
    let Caller::Browser { me, .. } = caller else { return redirect(crate::pages::SIGN_IN) };
    let settings = &web.config.client;
    let address = me.primary_address.to_string();
    match rest {
        [] => {
            let mut servers = Vec::new();
            let host = &settings.hostname;
            for (label, port, how) in [
                ("Incoming mail (IMAP)", settings.imaps, "SSL/TLS"),
                ("Incoming mail (IMAP)", settings.imap, "STARTTLS"),
                ("Outgoing mail (SMTP)", settings.submissions, "SSL/TLS"),
                ("Outgoing mail (SMTP)", settings.submission, "STARTTLS"),
            ] {
                if let Some(port) = port {
                    servers.push((label.to_string(), format!("{host}, port {port}, {how}, normal password")));
                }
            }
            if let Some(port) = settings.https {
                servers.push(("Calendar (CalDAV)".into(), format!("https://{host}:{port}/dav/")));
            } else if let Some(port) = settings.http {
                servers.push(("Calendar (CalDAV)".into(), format!("http://{host}:{port}/dav/")));
            }
            html(StatusCode::OK, &SetupPage { chrome: Chrome::of(caller, "setup"), address, servers })
        }
        ["mailroom.mobileconfig"] => {
            let body = clientconfig::mobileconfig(settings, &address, &me.display_name);
            let mut response = answer(StatusCode::OK, "application/x-apple-aspen-config", body);
            response.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"mailroom.mobileconfig\""),
            );
            response
        }
        _ => not_found(caller),
    }
}
