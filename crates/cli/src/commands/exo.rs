//! `mailroom exo`: Exchange Online PowerShell cmdlets against this organisation.
//!
//! One pipeline as an argument, or `-` to read a script from standard input
//! (one pipeline per line). Output is a PowerShell-like table/list, or with
//! `--json` one JSON array of every object shown. The first error stops the
//! script: it goes to standard error as `Cmdlet: message` and the exit
//! status is 1.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use mailroom_core::directory::Actor;
use mailroom_exo::parse::parse_script;
use mailroom_exo::{Host, PsObject, Shell, cmdlet_names, format_text, to_json};

use super::Env;

#[derive(Args, Debug)]
#[command(after_help = cmdlets_help())]
pub struct ExoArgs {
    /// The pipeline to run, e.g. 'Get-Mailbox -RecipientTypeDetails SharedMailbox'; - reads a script from standard input
    #[arg(value_name = "PIPELINE")]
    pipeline: String,
    /// Run as this admin instead of the machine's operator (their admin role decides)
    #[arg(long = "as", value_name = "ADDRESS")]
    run_as: Option<String>,
}

fn cmdlets_help() -> String {
    format!("Cmdlets: {}", cmdlet_names().join(", "))
}

/// Talks to the terminal: warnings and what-if notes as PowerShell prints
/// them, and confirmation questions when someone can answer.
struct TerminalHost {
    /// Standard input carries the script, so it can't answer questions.
    stdin_is_script: bool,
    /// Standard output carries JSON; notes go to standard error.
    json: bool,
}

impl Host for TerminalHost {
    fn warning(&mut self, message: &str) {
        eprintln!("WARNING: {message}");
    }

    fn what_if(&mut self, message: &str) {
        if self.json {
            eprintln!("{message}");
        } else {
            println!("{message}");
        }
    }

    fn confirm(&mut self, question: &str) -> Option<bool> {
        let stdin = std::io::stdin();
        if self.stdin_is_script || !stdin.is_terminal() {
            return None;
        }
        eprint!("Confirm\n{question}\n[Y] Yes  [N] No (default is \"Y\"): ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        // End of input is no answer, and no answer is no.
        if stdin.lock().read_line(&mut answer).ok()? == 0 {
            eprintln!();
            return Some(false);
        }
        let answer = answer.trim();
        Some(answer.is_empty() || answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes"))
    }
}

pub async fn run(env: &Env, args: ExoArgs) -> Result<ExitCode> {
    let mail = env.open_mail()?;
    let dir = mail.directory().clone();
    let stdin_is_script = args.pipeline == "-";
    let source = if stdin_is_script {
        let mut script = String::new();
        std::io::stdin()
            .read_to_string(&mut script)
            .context("could not read the script from standard input")?;
        script
    } else {
        args.pipeline
    };
    let actor = match &args.run_as {
        None => Actor::System,
        Some(login) => Actor::Principal(
            dir.resolve(login)
                .await
                .map_err(|_| {
                    anyhow::anyhow!("The account '{login}' couldn't be found in this organization.")
                })?
                .id,
        ),
    };
    let shell = Shell::new(mail, actor);
    let mut host = TerminalHost { stdin_is_script, json: env.json };
    let script = match parse_script(&source) {
        Ok(script) => script,
        Err(err) => {
            eprintln!("{err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut shown: Vec<PsObject> = Vec::new();
    for pipeline in &script {
        match shell.run_pipeline(pipeline, &mut host).await {
            Ok(objects) => {
                if !env.json {
                    print!("{}", format_text(&objects));
                }
                shown.extend(objects);
            }
            Err(failure) => {
                if env.json {
                    println!("{}", serde_json::to_string_pretty(&to_json(&shown))?);
                }
                eprintln!("{failure}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    if env.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&shown))?);
    }
    Ok(ExitCode::SUCCESS)
}
