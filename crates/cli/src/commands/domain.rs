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
    /// Print the DNS records that let mail and calendar apps find this
    /// server (SRV of RFC 6186, RFC 8314 and RFC 6764; autoconfig names)
    Dns {
        /// An accepted domain
        domain: String,
    },
}

pub async fn run(env: &Env, command: DomainCommand) -> Result<ExitCode> {
    let dir = env.open()?;
    match command {
        DomainCommand::Add { domain, default } => {
            let domain = DomainName::parse(&domain)?;
            dir.add_domain(&OPERATOR, &domain, default).await.map_err(core)?;
            env.done(&format!("Added the accepted domain {domain}."), None);
        }
        DomainCommand::Default { domain } => {
            let domain = DomainName::parse(&domain)?;
            dir.set_default_domain(&OPERATOR, &domain).await.map_err(core)?;
            env.done(&format!("{domain} is now the default domain."), None);
        }
        DomainCommand::Dns { domain } => {
            let domain = DomainName::parse(&domain)?;
            if !dir.is_accepted_domain(&domain).await.map_err(core)? {
                anyhow::bail!(
                    "{domain} isn't an accepted domain: add it first with 'mailroom domain add {domain}'"
                );
            }
            let config = mailroom_server::Config::load(&env.data, None)?;
            let settings = mailroom_server::client_settings(&config)?;
            let records = mailroom_http::clientconfig::dns_records(&settings, domain.as_str());
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
