//! The shell's host interaction (confirmation answered yes or no, what-if,
//! warnings) against a real store; the CLI tests cover the cmdlets at large.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::Arc;

use mailroom_core::Directory;
use mailroom_core::directory::Actor;
use mailroom_core::mail::Mail;
use mailroom_exo::{Host, Shell};
use mailroom_store::SqliteStore;
use mailroom_types::DomainName;

#[derive(Default)]
struct Recorder {
    answer: Option<bool>,
    questions: Vec<String>,
    warnings: Vec<String>,
    what_ifs: Vec<String>,
}

impl Host for Recorder {
    fn warning(&mut self, message: &str) {
        self.warnings.push(message.into());
    }
    fn what_if(&mut self, message: &str) {
        self.what_ifs.push(message.into());
    }
    fn confirm(&mut self, question: &str) -> Option<bool> {
        self.questions.push(question.into());
        self.answer
    }
}

async fn shell() -> (tempfile::TempDir, Shell) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&tmp.path().join("m.db")).unwrap());
    let dir = Directory::new(store.clone());
    dir.add_domain(&Actor::System, &DomainName::parse("contoso.com").unwrap(), true).await.unwrap();
    (tmp, Shell::new(Mail::new(dir, store), Actor::System))
}

#[tokio::test]
async fn confirmation_no_keeps_and_yes_removes() {
    let (_tmp, shell) = shell().await;
    let mut host = Recorder::default();
    shell.run("New-Mailbox -Shared -Name Temp", &mut host).await.unwrap();

    host.answer = Some(false);
    let shown = shell.run("Remove-Mailbox Temp", &mut host).await.unwrap();
    assert!(shown.is_empty());
    assert_eq!(host.questions.len(), 1);
    assert!(
        host.questions[0].contains("Performing the operation \"Remove Mailbox\" on target \"Temp\""),
        "{:?}",
        host.questions
    );
    assert_eq!(shell.run("Get-Mailbox Temp", &mut host).await.unwrap().len(), 1, "answered no: kept");

    host.answer = Some(true);
    shell.run("Remove-Mailbox Temp", &mut host).await.unwrap();
    assert!(shell.run("Get-Mailbox Temp", &mut host).await.is_err(), "answered yes: removed");

    // -Confirm asks even where Exchange wouldn't by default.
    host.answer = Some(false);
    shell.run("New-Mailbox -Shared -Name Asked -Confirm", &mut host).await.unwrap();
    assert!(shell.run("Get-Mailbox Asked", &mut host).await.is_err());
    assert_eq!(host.questions.len(), 3);
}

#[tokio::test]
async fn what_if_reports_and_changes_nothing_down_the_pipeline() {
    let (_tmp, shell) = shell().await;
    let mut host = Recorder::default();
    shell.run("New-Mailbox -Shared -Name Sales", &mut host).await.unwrap();
    shell.run("Get-Mailbox Sales | Set-Mailbox -DisplayName Changed -WhatIf", &mut host).await.unwrap();
    assert_eq!(host.what_ifs, ["What if: Performing the operation \"Set Mailbox\" on target \"Sales\"."]);
    let shown = shell.run("Get-Mailbox Sales", &mut host).await.unwrap();
    assert_eq!(shown[0].get("DisplayName"), Some(&mailroom_exo::PsValue::text("Sales")));
    assert!(host.questions.is_empty(), "-WhatIf never asks");
}

#[tokio::test]
async fn failures_name_the_cmdlet() {
    let (_tmp, shell) = shell().await;
    let mut host = Recorder::default();
    let failure = shell.run("Get-Mailbox nobody", &mut host).await.unwrap_err();
    assert_eq!(failure.cmdlet.as_deref(), Some("Get-Mailbox"));
    assert_eq!(
        failure.to_string(),
        "Get-Mailbox: The operation couldn't be performed because object 'nobody' couldn't be found."
    );
    let failure = shell.run("Get-Mailbox 'open", &mut host).await.unwrap_err();
    assert_eq!(failure.cmdlet, None);
}
