//! `mailroom domain`: accepted domains.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use mailroom_exo::{PsObject, PsValue};
use mailroom_types::DomainName;

use super::{Env, OPERATOR, core, ok};

#[derive(Subcommand, Debug)]
pub enum DomainCommand {
    /// Accept mail for another domain
    Add {
        /// The domain, e.g. fabrikam.com
        domain: String,
        /// Make it the default domain for new addresses
        #[arg(long)]
        default: bool,
    },
    /// List accepted domains
    List,
    /// Make an accepted domain the default for new addresses
    Default {
        /// The domain
        domain: String,
    },
    /// Print the DNS records the domain needs: MX, SPF, its DKIM keys,
    /// DMARC, MTA-STS and TLS-RPT, and the records that let mail and
    /// calendar apps find this server (SRV of RFC 6186, RFC 8314 and RFC
    /// 6764; autoconfig names)
    Dns {
        /// An accepted domain
        domain: String,
        /// Look each record up in DNS (the resolvers of [dns] in
        /// mailroom.toml) and say which are missing or wrong; exits 1 if any
        /// is, or couldn't be looked up
        #[arg(long)]
        check: bool,
    },
    /// The domain's DKIM signing keys (RFC 6376, RFC 8463)
    #[command(subcommand)]
    Dkim(DkimCommand),
}

#[derive(Subcommand, Debug)]
pub enum DkimCommand {
    /// List the domain's keys: selector, algorithm, whether it signs
    List {
        /// An accepted domain
        domain: String,
    },
    /// Make a new pair (Ed25519 and RSA) that signs from now on; the old
    /// pair stops signing and stays published until removed
    Rotate {
        /// An accepted domain
        domain: String,
    },
    /// Remove a key that no longer signs (then remove its DNS record)
    Remove {
        /// An accepted domain
        domain: String,
        /// The key's selector, as `list` shows it
        selector: String,
    },
}

/// `domain dns --check`: each record looked up, its state printed; exit 1
/// when any is missing or wrong.
async fn check_records(
    env: &Env,
    domain: &DomainName,
    dns: &mailroom_mailauth::Dns,
    records: &[String],
) -> Result<ExitCode> {
    use mailroom_mailauth::records::Status;
    let checked = mailroom_mailauth::records::check(dns, records).await;
    let problems = checked.iter().filter(|c| c.status.is_problem()).count();
    let unchecked = checked.iter().filter(|c| matches!(c.status, Status::Unanswered(_))).count();
    if env.json {
        let rows: Vec<serde_json::Value> = checked
            .iter()
            .map(|c| {
                serde_json::json!({
                    "Name": c.name, "Type": c.kind, "Expected": c.expected,
                    "Status": c.status.as_str(), "Found": c.found,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for c in &checked {
            let state = match &c.status {
                Status::Ok => "ok       ".to_string(),
                Status::Missing => "MISSING  ".to_string(),
                Status::Wrong => "WRONG    ".to_string(),
                Status::Differs => "differs  ".to_string(),
                Status::Unanswered(why) => format!("UNKNOWN ({why}) "),
            };
            println!("{state}{} {} {}", c.name, c.kind, c.expected);
            if matches!(c.status, Status::Wrong | Status::Differs) {
                println!("           DNS has: {}", c.found.join(" | "));
            }
        }
    }
    if problems > 0 {
        eprintln!(
            "{problems} of {domain}'s records are missing or wrong: publish them as 'mailroom domain dns {domain}' prints them."
        );
    }
    if unchecked > 0 {
        eprintln!(
            "{unchecked} of {domain}'s records couldn't be checked: DNS didn't answer (see [dns] nameservers in mailroom.toml)."
        );
    }
    if problems + unchecked > 0 {
        return Ok(ExitCode::from(1));
    }
    if !env.json {
        println!("Every record {domain} needs is in DNS.");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(env: &Env, command: DomainCommand) -> Result<ExitCode> {
    let dir = env.open()?;
    match command {
        DomainCommand::Add { domain, default } => {
            let domain = DomainName::parse(&domain)?;
            dir.add_domain(&OPERATOR, &domain, default).await.map_err(core)?;
            // Its DKIM keys now, so the records to publish exist at once.
            mailroom_mailauth::ensure_keys(&dir, &domain).await.map_err(core)?;
            env.done(
                &format!(
                    "Added the accepted domain {domain}. Publish its DNS records: 'mailroom domain dns {domain}'."
                ),
                None,
            );
        }
        DomainCommand::Default { domain } => {
            let domain = DomainName::parse(&domain)?;
            dir.set_default_domain(&OPERATOR, &domain).await.map_err(core)?;
            env.done(&format!("{domain} is now the default domain."), None);
        }
        DomainCommand::Dns { domain, check } => {
            let domain = DomainName::parse(&domain)?;
            if !dir.is_accepted_domain(&domain).await.map_err(core)? {
                anyhow::bail!(
                    "{domain} isn't an accepted domain: add it first with 'mailroom domain add {domain}'"
                );
            }
            let config = mailroom_server::Config::load(&env.data, None)?;
            let settings = mailroom_server::client_settings(&config)?;
            let keys = mailroom_mailauth::ensure_keys(&dir, &domain).await.map_err(core)?;
            let records = mailroom_http::clientconfig::domain_records(&settings, domain.as_str(), &keys);
            if check {
                let dns = config.dns()?;
                return check_records(env, &domain, &dns, &records).await;
            }
            if env.json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else {
                println!(
                    "; DNS records for {domain}: mail and calendar apps find {} with them.",
                    settings.hostname
                );
                println!("; Publish them in the zone of {domain} (host and ports come from mailroom.toml).");
                for record in records {
                    println!("{record}");
                }
            }
        }
        DomainCommand::Dkim(command) => return dkim(env, &dir, command).await,
        DomainCommand::List => {
            let objects: Vec<PsObject> = dir
                .accepted_domains()
                .await
                .map_err(core)?
                .into_iter()
                .map(|d| {
                    PsObject::new(
                        "AcceptedDomain",
                        d.name.as_str(),
                        vec![
                            ("DomainName", PsValue::text(d.name.as_str())),
                            ("Default", PsValue::Bool(d.is_default)),
                        ],
                        &["DomainName", "Default"],
                    )
                })
                .collect();
            env.print(&objects);
        }
    }
    ok()
}

async fn dkim(
    env: &Env,
    dir: &mailroom_core::directory::Directory,
    command: DkimCommand,
) -> Result<ExitCode> {
    match command {
        DkimCommand::List { domain } => {
            let domain = DomainName::parse(&domain)?;
            let keys = dir.dkim_keys(&OPERATOR, &domain).await.map_err(core)?;
            let objects: Vec<PsObject> = keys
                .iter()
                .map(|k| {
                    PsObject::new(
                        "DkimSigningKey",
                        &k.selector,
                        vec![
                            ("Domain", PsValue::text(k.domain.as_str())),
                            ("Selector", PsValue::text(&k.selector)),
                            ("Algorithm", PsValue::text(k.algorithm.as_str())),
                            ("Signing", PsValue::Bool(k.signing)),
                            ("Record", PsValue::text(mailroom_mailauth::record_name(k))),
                        ],
                        &["Selector", "Algorithm", "Signing"],
                    )
                })
                .collect();
            env.print(&objects);
        }
        DkimCommand::Rotate { domain } => {
            let domain = DomainName::parse(&domain)?;
            let taken: Vec<String> = dir
                .dkim_keys(&OPERATOR, &domain)
                .await
                .map_err(core)?
                .into_iter()
                .map(|k| k.selector)
                .collect();
            let made = tokio::task::spawn_blocking(move || mailroom_mailauth::generate(&taken)).await??;
            let selectors: Vec<String> = made.iter().map(|k| k.selector.clone()).collect();
            dir.add_dkim_keys(&OPERATOR, &domain, made, false).await.map_err(core)?;
            env.done(
                &format!(
                    "{domain} now signs with {}. Publish their records ('mailroom domain dns {domain}'); keep the old ones published a few days, then remove them with 'mailroom domain dkim remove'.",
                    selectors.join(" and ")
                ),
                None,
            );
        }
        DkimCommand::Remove { domain, selector } => {
            let domain = DomainName::parse(&domain)?;
            dir.remove_dkim_key(&OPERATOR, &domain, &selector).await.map_err(core)?;
            env.done(
                &format!("Removed the DKIM key {selector} of {domain}; its DNS record can go too."),
                None,
            );
        }
    }
    ok()
}
