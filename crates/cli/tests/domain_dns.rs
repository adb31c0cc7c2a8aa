//! `mailroom domain dns DOMAIN --check` against a real DNS server (the
//! testkit's, on loopback): every record published as printed → all ok;
//! then records removed or changed → each named missing or wrong, exit 1.
//! And the MTA-STS policy those records announce, served over HTTP.

use mailroom_testkit::{Cli, http};

/// contoso.com, its server named mail.contoso.com.
fn org() -> Cli {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    let config = cli.data().join("mailroom.toml");
    let text = std::fs::read_to_string(&config).expect("mailroom.toml");
    std::fs::write(&config, format!("hostname = \"mail.contoso.com\"\n{text}")).expect("write mailroom.toml");
    cli
}

/// Publishes every record of `domain dns`'s zone lines in the test's DNS.
fn publish(cli: &Cli, lines: &[serde_json::Value]) -> usize {
    let mut published = 0;
    for line in lines.iter().filter_map(|l| l.as_str()).filter(|l| !l.starts_with(';')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (name, kind) = (words[0], words[3]);
        let data = if kind == "TXT" {
            let rest = words[4..].join(" ");
            rest.split('"').skip(1).step_by(2).collect::<String>()
        } else {
            words[4..].join(" ")
        };
        cli.dns().add(name, kind, &data);
        published += 1;
    }
    published
}

/// The `--check` rows by (name, type): their status.
fn statuses(rows: &[serde_json::Value]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["Name"].as_str().unwrap_or_default().to_string(),
                r["Type"].as_str().unwrap_or_default().to_string(),
                r["Status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn status_of(rows: &[(String, String, String)], name: &str, kind: &str) -> String {
    rows.iter()
        .filter(|(n, k, _)| n == name && k == kind)
        .map(|(_, _, s)| s.clone())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn the_records_a_domain_needs_are_printed_and_checked_against_dns() {
    let cli = org();
    let lines = cli.run(&["--json", "domain", "dns", "contoso.com"]).ok().json_array();
    let text: Vec<&str> = lines.iter().filter_map(|l| l.as_str()).collect();
    for wanted in [
        "contoso.com. 3600 IN MX 10 mail.contoso.com.",
        "contoso.com. 3600 IN TXT \"v=spf1 mx -all\"",
        "_dmarc.contoso.com. 3600 IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@contoso.com\"",
        "mta-sts.contoso.com. 3600 IN CNAME mail.contoso.com.",
        "_smtp._tls.contoso.com. 3600 IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@contoso.com\"",
    ] {
        assert!(text.contains(&wanted), "{wanted} in {text:#?}");
    }
    assert!(text.iter().any(|l| l.starts_with("_mta-sts.contoso.com. 3600 IN TXT \"v=STSv1; id=")));
    assert_eq!(text.iter().filter(|l| l.contains("._domainkey.contoso.com.")).count(), 2, "{text:#?}");

    // Nothing published yet: the check says so and fails.
    let run = cli.run(&["domain", "dns", "contoso.com", "--check"]).fails_with(1, "missing or wrong");
    assert!(run.stdout.contains("MISSING  contoso.com MX"), "{}", run.stdout);

    // Everything published as printed: all ok.
    assert!(publish(&cli, &lines) >= 15);
    let run = cli.run(&["domain", "dns", "contoso.com", "--check"]).ok();
    assert!(run.stdout.contains("Every record contoso.com needs is in DNS."), "{}", run.stdout);
    let rows = statuses(&cli.run(&["--json", "domain", "dns", "contoso.com", "--check"]).ok().json_array());
    assert!(rows.iter().all(|(_, _, s)| s == "ok"), "{rows:#?}");

    // Then things go wrong: DMARC removed, the RSA key replaced, a second
    // SPF record, the MX pointing elsewhere, the SPF of an admin's own.
    let rsa_name = text
        .iter()
        .find(|l| l.contains("._domainkey.") && l.contains("k=rsa"))
        .and_then(|l| l.split_whitespace().next())
        .expect("an RSA key record")
        .to_string();
    let dns = cli.dns();
    dns.remove("_dmarc.contoso.com", "TXT");
    dns.set(&rsa_name, "TXT", "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnotours");
    dns.set("contoso.com", "MX", "10 mx.elsewhere.example.");
    dns.add("contoso.com", "TXT", "v=spf1 -all");
    let run = cli.run(&["--json", "domain", "dns", "contoso.com", "--check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("4 of contoso.com's records are missing or wrong"), "{}", run.stderr);
    let rows = statuses(&run.json_array());
    assert_eq!(status_of(&rows, "_dmarc.contoso.com", "TXT"), "missing");
    assert_eq!(status_of(&rows, rsa_name.trim_end_matches('.'), "TXT"), "wrong");
    assert_eq!(status_of(&rows, "contoso.com", "MX"), "wrong");
    assert_eq!(status_of(&rows, "contoso.com", "TXT"), "wrong", "two SPF records");
    assert_eq!(status_of(&rows, "_smtp._tls.contoso.com", "TXT"), "ok");

    // One SPF record again, but not ours: a choice of the admin's, shown
    // but not counted as a fault.
    dns.remove("contoso.com", "TXT");
    dns.add("contoso.com", "TXT", "v=spf1 mx include:spf.mailer.example -all");
    let run =
        cli.run(&["domain", "dns", "contoso.com", "--check"]).fails_with(1, "3 of contoso.com's records");
    assert!(run.stdout.contains("differs  contoso.com TXT"), "{}", run.stdout);
    assert!(run.stdout.contains("DNS has: v=spf1 mx include:spf.mailer.example -all"), "{}", run.stdout);

    // A resolver that doesn't answer: nothing can be said to be in DNS.
    cli.set_section("dns", &format!("nameservers = [\"{}\"]", mailroom_testkit::CLOSED_PORT));
    let run = cli.run(&["domain", "dns", "contoso.com", "--check"]).fails_with(1, "couldn't be checked");
    assert!(run.stdout.contains("UNKNOWN") && !run.stdout.contains("Every record"), "{}", run.stdout);
    cli.set_section("dns", &format!("nameservers = [\"{}\"]", cli.dns().addr()));

    // The MTA-STS policy the records announce, served to anyone.
    let server = cli.serve(&[]);
    let reply = http(server.http(), "GET", "/.well-known/mta-sts.txt", None, &[], b"");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "version: STSv1\r\nmode: testing\r\nmx: mail.contoso.com\r\nmax_age: 604800\r\n");
}
