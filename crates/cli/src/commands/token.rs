//! `mailroom token`: API tokens for the HTTP admin API.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use mailroom_exo::{PsObject, PsValue};

use super::{Env, OPERATOR, core, ok};

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token for the admin API; its secret is printed once
    Create {
        /// A name saying who or what uses it, e.g. "provisioning script"
        #[arg(long)]
        name: String,
    },
    /// List tokens with when each was created and last used
    List,
    /// Revoke a token: requests with it are refused from now on
    Revoke {
        /// The token's name
        name: String,
    },
}

pub async fn run(env: &Env, command: TokenCommand) -> Result<ExitCode> {
    let dir = env.open()?;
    match command {
        TokenCommand::Create { name } => {
            let (token, secret) = dir.create_api_token(&OPERATOR, &name).await.map_err(core)?;
            let object = PsObject::new(
                "ApiToken",
                &token.name,
                vec![("Name", PsValue::text(&token.name)), ("Secret", PsValue::text(secret.expose()))],
                &["Name", "Secret"],
            );
            env.done(
                &format!(
                    "Created the token \"{}\". Its secret is shown only now; keep it safe:\n{}\nUse it as 'Authorization: Bearer <secret>' on /api/.",
                    token.name,
                    secret.expose()
                ),
                Some(object),
            );
        }
        TokenCommand::List => {
            let objects: Vec<PsObject> = dir
                .api_tokens(&OPERATOR)
                .await
                .map_err(core)?
                .into_iter()
                .map(|t| {
                    let last_used = t.last_used.map_or_else(|| "never".to_string(), |at| at.to_rfc3339());
                    PsObject::new(
                        "ApiToken",
                        &t.name,
                        vec![
                            ("Name", PsValue::text(&t.name)),
                            ("Created", PsValue::text(t.created.to_rfc3339())),
                            ("LastUsed", PsValue::text(last_used)),
                        ],
                        &["Name", "Created", "LastUsed"],
                    )
                })
                .collect();
            env.print(&objects);
        }
        TokenCommand::Revoke { name } => {
            dir.revoke_api_token(&OPERATOR, &name).await.map_err(core)?;
            env.done(&format!("Revoked the token \"{}\".", name.trim()), None);
        }
    }
    ok()
}
