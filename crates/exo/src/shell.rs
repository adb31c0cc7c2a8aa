//! Evaluating scripts: pipelines, sub-expressions, pipeline input, `-WhatIf`
//! and `-Confirm`, and the admin check.

use std::future::Future;
use std::pin::Pin;

use mailroom_core::Directory;
use mailroom_core::directory::Actor;
use mailroom_core::mail::Mail;

use crate::ast::{Arg, Command, Expr, Pipeline};
use crate::bind::{ArgValue, CONFIRM, ParamSpec, WHAT_IF, bind};
use crate::cmdlets::{self, CmdletDef, CmdletId};
use crate::error::{ExoError, ExoResult, Failure};
use crate::object::{PsObject, View};
use crate::parse::parse_script;
use crate::value::Value;

/// Where warnings, what-if notes and confirmation questions go.
pub trait Host: Send + Sync {
    /// PowerShell's `WARNING:` stream.
    fn warning(&mut self, message: &str);
    /// `-WhatIf` output.
    fn what_if(&mut self, message: &str);
    /// Asks to go ahead; `None` when there is nobody to ask.
    fn confirm(&mut self, question: &str) -> Option<bool>;
}

/// What a cmdlet produced.
#[derive(Debug, Default)]
pub struct CmdletOutput {
    pub objects: Vec<PsObject>,
    /// `Set-*` cmdlets print nothing but still pass their object down the
    /// pipeline, so `New-Mailbox ... | Set-Mailbox ... | Add-MailboxPermission`
    /// works as the seed documents write it.
    pub display: bool,
}

impl CmdletOutput {
    pub fn shown(objects: Vec<PsObject>) -> Self {
        CmdletOutput { objects, display: true }
    }
    pub fn passed_on(objects: Vec<PsObject>) -> Self {
        CmdletOutput { objects, display: false }
    }
    pub fn nothing() -> Self {
        CmdletOutput { objects: Vec::new(), display: true }
    }
}

/// The state a cmdlet runs with.
pub struct Ctx<'a> {
    pub dir: &'a Directory,
    /// The mail store's side (statistics, folders).
    pub mail: &'a Mail,
    pub actor: Actor,
    host: &'a mut dyn Host,
    what_if: bool,
    confirm: bool,
}

impl Ctx<'_> {
    pub fn warn(&mut self, message: impl AsRef<str>) {
        self.host.warning(message.as_ref());
    }

    /// PowerShell's ShouldProcess: with `-WhatIf`, says what would happen and
    /// returns `false`; when confirmation is due, asks. `true` means go ahead.
    pub fn should_process(&mut self, action: &str, target: &str) -> ExoResult<bool> {
        if self.what_if {
            self.host
                .what_if(&format!("What if: Performing the operation \"{action}\" on target \"{target}\"."));
            return Ok(false);
        }
        if self.confirm {
            let question = format!(
                "Are you sure you want to perform this action?\nPerforming the operation \"{action}\" on target \"{target}\"."
            );
            return match self.host.confirm(&question) {
                Some(answer) => Ok(answer),
                None => Err(ExoError::ConfirmationRequired(question)),
            };
        }
        Ok(true)
    }
}

/// The cmdlet mode: evaluates scripts as `actor` against the directory and
/// the mail store.
#[derive(Clone, Debug)]
pub struct Shell {
    mail: Mail,
    actor: Actor,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Shell {
    pub fn new(mail: Mail, actor: Actor) -> Self {
        Shell { mail, actor }
    }

    fn dir(&self) -> &Directory {
        self.mail.directory()
    }

    /// Runs every pipeline of `source` in order and returns what is to be
    /// shown. Stops at the first error, which names the failing cmdlet
    /// (as with `$ErrorActionPreference = 'Stop'`).
    pub async fn run(&self, source: &str, host: &mut dyn Host) -> Result<Vec<PsObject>, Failure> {
        let script = parse_script(source)?;
        let mut shown = Vec::new();
        for pipeline in &script {
            shown.extend(self.run_pipeline(pipeline, host).await?);
        }
        Ok(shown)
    }

    /// Runs one pipeline. SPEC §1: only admins run cmdlets.
    pub async fn run_pipeline(
        &self,
        pipeline: &Pipeline,
        host: &mut dyn Host,
    ) -> Result<Vec<PsObject>, Failure> {
        self.dir().require_admin(&self.actor).await.map_err(|e| Failure { cmdlet: None, error: e.into() })?;
        self.pipeline(pipeline, host).await
    }

    fn pipeline<'a>(
        &'a self,
        pipeline: &'a Pipeline,
        host: &'a mut dyn Host,
    ) -> BoxFuture<'a, Result<Vec<PsObject>, Failure>> {
        Box::pin(async move {
            let mut input: Option<Vec<PsObject>> = None;
            let mut display = true;
            for command in &pipeline.commands {
                let fail = |error: ExoError| Failure { cmdlet: Some(command.name.clone()), error };
                let def = cmdlets::find(&command.name).map_err(fail)?;
                let args = self.evaluate_args(command, host).await?;
                if let Some(view) = def.formats {
                    let objects = input.take().unwrap_or_default();
                    input = Some(format_objects(def, view, args, objects).map_err(fail)?);
                    display = true;
                    continue;
                }
                let mut produced = Vec::new();
                match input.take() {
                    None => {
                        let out = self.invoke(def, args, None, host).await.map_err(fail)?;
                        display = out.display;
                        produced = out.objects;
                    }
                    // Each object coming down the pipeline runs the cmdlet once.
                    Some(objects) => {
                        for object in &objects {
                            let out =
                                self.invoke(def, args.clone(), Some(object), host).await.map_err(fail)?;
                            display = out.display;
                            produced.extend(out.objects);
                        }
                    }
                }
                input = Some(produced);
            }
            Ok(if display { input.unwrap_or_default() } else { Vec::new() })
        })
    }

    async fn invoke(
        &self,
        def: &'static CmdletDef,
        args: Vec<ArgValue>,
        pipeline_input: Option<&PsObject>,
        host: &mut dyn Host,
    ) -> ExoResult<CmdletOutput> {
        let specs: Vec<ParamSpec> = def
            .params
            .iter()
            .copied()
            .chain(def.changes.then_some([WHAT_IF, CONFIRM]).into_iter().flatten())
            .collect();
        let bound = bind(&specs, args, pipeline_input)?;
        let what_if = bound.switch(WHAT_IF.name);
        let confirm = match bound.bool(CONFIRM.name)? {
            Some(explicit) => explicit,
            None => def.confirm_by_default,
        };
        let mut ctx =
            Ctx { dir: self.mail.directory(), mail: &self.mail, actor: self.actor, host, what_if, confirm };
        cmdlets::dispatch(def.id, &mut ctx, bound).await
    }

    async fn evaluate_args(&self, command: &Command, host: &mut dyn Host) -> Result<Vec<ArgValue>, Failure> {
        let mut out = Vec::with_capacity(command.args.len());
        for arg in &command.args {
            out.push(match arg {
                Arg::Parameter { name, value: None } => {
                    ArgValue::Parameter { name: name.clone(), value: None }
                }
                Arg::Parameter { name, value: Some(expr) } => {
                    ArgValue::Parameter { name: name.clone(), value: Some(self.evaluate(expr, host).await?) }
                }
                Arg::Value(expr) => ArgValue::Value(self.evaluate(expr, host).await?),
            });
        }
        Ok(out)
    }

    fn evaluate<'a>(
        &'a self,
        expr: &'a Expr,
        host: &'a mut dyn Host,
    ) -> BoxFuture<'a, Result<Value, Failure>> {
        Box::pin(async move {
            let fail = |message: String| Failure { cmdlet: None, error: ExoError::invalid(message) };
            Ok(match expr {
                Expr::Quoted(text) => Value::Text { text: text.clone(), quoted: true },
                Expr::Bare(text) => Value::Text { text: text.clone(), quoted: false },
                Expr::Variable(name) => match name.to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => {
                        return Err(fail(format!(
                            "The variable '${name}' isn't defined: Mailroom's cmdlet mode knows only $true, $false and $null."
                        )));
                    }
                },
                Expr::Array(items) => {
                    let mut values = Vec::with_capacity(items.len());
                    for item in items {
                        values.push(self.evaluate(item, host).await?);
                    }
                    Value::Array(values)
                }
                Expr::Hashtable(entries) => {
                    let mut values = Vec::with_capacity(entries.len());
                    for (key, item) in entries {
                        values.push((key.clone(), self.evaluate(item, host).await?));
                    }
                    Value::Table(values)
                }
                Expr::SubExpression(inner) => {
                    if let [only] = inner.commands.as_slice()
                        && let Ok(def) = cmdlets::find(&only.name)
                        && def.id == CmdletId::ConvertToSecureString
                    {
                        let args = self.evaluate_args(only, host).await?;
                        let secret = cmdlets::convertto_securestring::secret(args)
                            .map_err(|error| Failure { cmdlet: Some(only.name.clone()), error })?;
                        return Ok(Value::Secure(secret));
                    }
                    let mut objects = self.pipeline(inner, host).await?;
                    match objects.len() {
                        0 => Value::Null,
                        1 => Value::Object(Box::new(objects.remove(0))),
                        _ => Value::Array(objects.into_iter().map(|o| Value::Object(Box::new(o))).collect()),
                    }
                }
            })
        })
    }
}

/// `Format-List` / `Format-Table`: choose the view and properties.
fn format_objects(
    def: &CmdletDef,
    view: cmdlets::FormatView,
    args: Vec<ArgValue>,
    objects: Vec<PsObject>,
) -> ExoResult<Vec<PsObject>> {
    let bound = bind(def.params, args, None)?;
    let patterns = bound.texts("Property")?;
    Ok(objects
        .into_iter()
        .map(|mut object| {
            let names = match (&patterns, view, &object.view) {
                (Some(p), _, _) => object.select(p),
                (None, cmdlets::FormatView::List, _) => object.select(&["*".to_string()]),
                (None, cmdlets::FormatView::Table, View::Table(cols)) => cols.clone(),
                (None, cmdlets::FormatView::Table, View::List(cols)) => cols.clone(),
            };
            object.selected = patterns.is_some();
            object.view = match view {
                cmdlets::FormatView::List => View::List(names),
                cmdlets::FormatView::Table => View::Table(names),
            };
            object
        })
        .collect())
}
