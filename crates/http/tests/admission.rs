//! What the head of a request decides, for clients the integration tests
//! can't be (they run on loopback): a scraper or an API client on another
//! machine, over plain HTTP and over TLS; and which paths are this
//! service's rather than CalDAV's.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mailroom_core::Directory;
use mailroom_core::directory::Actor;
use mailroom_core::mail::Mail;
use mailroom_http::{Admission, Head, NoMetrics, Web, WebConfig};

fn web(dir: &std::path::Path) -> (Web, Directory) {
    let store = Arc::new(mailroom_store::SqliteStore::open(&dir.join(mailroom_store::SQLITE_FILE)).unwrap());
    let directory = Directory::new(store.clone());
    let mail = Mail::new(directory.clone(), store);
    (Web::new(mail, WebConfig::default(), Arc::new(NoMetrics)), directory)
}

fn head(
    method: Method,
    path: &str,
    peer: &str,
    secure: bool,
    headers: &[(header::HeaderName, &str)],
) -> Head {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    Head {
        method,
        path: path.to_string(),
        query: None,
        headers: map,
        peer: peer.parse::<SocketAddr>().unwrap(),
        secure,
    }
}

fn status(admission: Admission) -> Result<StatusCode, usize> {
    match admission {
        Admission::Respond(response) => Ok(response.status()),
        Admission::ReadBody(admitted) => Err(admitted.body_limit()),
    }
}

#[test]
fn paths_are_split_between_this_service_and_caldav() {
    let propfind = Method::from_bytes(b"PROPFIND").unwrap();
    for (method, path, ours) in [
        (Method::GET, "/", true),
        (propfind.clone(), "/", false),
        (Method::GET, "/admin", true),
        (Method::GET, "/admin/shared-mailboxes", true),
        (Method::GET, "/adminx", false),
        (Method::POST, "/api/v1/mailboxes", true),
        (Method::GET, "/api", true),
        (Method::GET, "/setup/mailroom.mobileconfig", true),
        (Method::GET, "/metrics", true),
        (Method::GET, "/.well-known/autoconfig/mail/config-v1.1.xml", true),
        (Method::GET, "/mail/config-v1.1.xml", true),
        (Method::POST, "/Autodiscover/Autodiscover.xml", true),
        (Method::GET, "/.well-known/caldav", false),
        (propfind.clone(), "/dav/calendars/alice@contoso.com/", false),
        (Method::GET, "/dav/calendars/alice@contoso.com/calendar/x.ics", false),
    ] {
        assert_eq!(Web::handles(&method, path), ours, "{method} {path}");
    }
}

#[tokio::test]
async fn other_machines_need_a_token_and_tls() {
    let tmp = tempfile::tempdir().unwrap();
    let (web, dir) = web(tmp.path());
    let (_, secret) = dir.create_api_token(&Actor::System, "script").await.unwrap();
    let bearer = format!("Bearer {}", secret.expose());
    let stranger = "192.0.2.1:40000";

    // Metrics: refused to a stranger, open to loopback (IPv4-mapped too) and to a token.
    let metrics = |peer: &str, secure: bool, auth: Option<&str>| {
        let headers: Vec<(header::HeaderName, &str)> =
            auth.map(|a| vec![(header::AUTHORIZATION, a)]).unwrap_or_default();
        head(Method::GET, "/metrics", peer, secure, &headers)
    };
    assert_eq!(status(web.admit(&metrics(stranger, false, None)).await), Ok(StatusCode::UNAUTHORIZED));
    assert_eq!(status(web.admit(&metrics("127.0.0.1:1", false, None)).await), Ok(StatusCode::OK));
    assert_eq!(status(web.admit(&metrics("[::ffff:127.0.0.1]:1", false, None)).await), Ok(StatusCode::OK));
    assert_eq!(status(web.admit(&metrics(stranger, true, Some(&bearer))).await), Ok(StatusCode::OK));
    assert_eq!(
        status(web.admit(&metrics(stranger, true, Some("Bearer mrt_0000"))).await),
        Ok(StatusCode::UNAUTHORIZED)
    );

    // The API: a token in the clear from another machine is refused before
    // the body; over TLS it is admitted with the API's body limit.
    let api = |secure: bool| {
        head(Method::POST, "/api/v1/mailboxes", stranger, secure, &[(header::AUTHORIZATION, &bearer)])
    };
    assert_eq!(status(web.admit(&api(false)).await), Ok(StatusCode::FORBIDDEN));
    assert_eq!(status(web.admit(&api(true)).await), Err(320 * 1024));
    // No credentials at all: 401 from the head.
    let bare = head(Method::POST, "/api/v1/mailboxes", stranger, true, &[]);
    assert_eq!(status(web.admit(&bare).await), Ok(StatusCode::UNAUTHORIZED));
    // A revoked token stops working at once.
    dir.revoke_api_token(&Actor::System, "script").await.unwrap();
    assert_eq!(status(web.admit(&api(true)).await), Ok(StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn the_sign_in_form_refuses_passwords_in_the_clear_from_other_machines() {
    let tmp = tempfile::tempdir().unwrap();
    let (web, _) = web(tmp.path());
    let form = head(Method::GET, "/admin/sign-in", "192.0.2.1:40000", false, &[]);
    let Admission::Respond(response) = web.admit(&form).await else {
        panic!("the form is answered from the head")
    };
    let page = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(page.contains("Sign in over HTTPS"), "{page}");
    let over_tls = head(Method::GET, "/admin/sign-in", "192.0.2.1:40000", true, &[]);
    let Admission::Respond(response) = web.admit(&over_tls).await else { panic!("answered from the head") };
    let page = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(!page.contains("Sign in over HTTPS"), "{page}");
    // A sign-in post is anonymous: its answer ends the connection.
    let post = head(Method::POST, "/admin/sign-in", "192.0.2.1:40000", true, &[]);
    let Admission::ReadBody(admitted) = web.admit(&post).await else { panic!("the form's body is read") };
    assert!(admitted.closes());
    assert_eq!(admitted.body_limit(), 8 * 1024);
}
