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
