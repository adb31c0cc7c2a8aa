//! A sans-I/O parser for the PowerShell subset that Exchange admins type.
//!
//! Supported: commands and `|` pipelines; `;` or line breaks between
//! pipelines; `-Param value`, `-Switch`, `-Param:value`; single-quoted
//! (`''` escapes a quote) and double-quoted strings (backtick escapes, `""`);
//! bare words; `$true`/`$false`/`$null`; comma arrays, `@(...)` arrays and
//! `@{Key=value; ...}` hashtables; `( pipeline )` sub-expressions such as
//! `(ConvertTo-SecureString -String '...' -AsPlainText -Force)`; `#`
//! comments; a backtick at the end of a line continues it.
//!
//! Not supported, and refused with a message rather than misread: variable
//! assignment, script blocks (`{ ... }`), and string interpolation (`$` in
//! double quotes is taken literally, so use single quotes for passwords as
//! PowerShell users do anyway).
//!
//! The grammar is PowerShell's *argument mode* (about_Parsing): in argument
//! position an unquoted word is a string, so `-Alias Sales` and
//! `-Identity info@contoso.com` need no quotes.
//!
//! Like PowerShell, the typographic dashes (– — ―) count as `-` and the curly
//! quotes (‘ ’ ‚ ‛ and “ ” „) as quotes: commands pasted from documents
//! (one of SPEC's seeds writes `–InheritanceType`) work as typed.

use crate::ast::{Arg, Command, Expr, Pipeline};

/// A syntax error with its place in the source.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}\nAt line:{line} char:{column}")]
pub struct ParseError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Parses a script: pipelines separated by `;` or line breaks.
pub fn parse_script(source: &str) -> Result<Vec<Pipeline>, ParseError> {
    let mut parser = Parser { chars: source.chars().collect(), pos: 0, depth: 0 };
    let mut pipelines = Vec::new();
    loop {
        parser.skip_separators();
        if parser.at_end() {
            break;
        }
        pipelines.push(parser.pipeline(false)?);
        parser.skip_inline_space();
        match parser.peek() {
            None | Some('\n' | '\r' | ';') => {}
            Some(c) => {
                return Err(parser.error(format!("Unexpected token '{c}' in expression or statement.")));
            }
        }
    }
    Ok(pipelines)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// Brackets deeper than this are refused rather than recursed into.
const MAX_NESTING: usize = 64;

/// PowerShell's dash characters (about_Special_Characters; the tokenizer's
/// IsDash): hyphen-minus, en dash, em dash, horizontal bar.
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}')
}

fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201c}' | '\u{201d}' | '\u{201e}')
}

/// Characters that end an unquoted word.
fn ends_word(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '|' | ';' | ',' | '(' | ')' | '{' | '}')
        || is_single_quote(c)
        || is_double_quote(c)
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        let before = &self.chars[..self.pos.min(self.chars.len())];
        let line = before.iter().filter(|&&c| c == '\n').count() + 1;
        let column = before.iter().rev().take_while(|&&c| c != '\n').count() + 1;
        ParseError { message: message.into(), line, column }
    }

    /// Spaces, tabs, comments and backtick line continuations; not line breaks.
    fn skip_inline_space(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\u{a0}' => self.pos += 1,
                '`' if matches!(self.peek_at(1), Some('\n' | '\r')) => {
                    self.pos += 1;
                    if self.peek() == Some('\r') {
                        self.pos += 1;
                    }
                    if self.peek() == Some('\n') {
                        self.pos += 1;
                    }
                }
                '#' => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn skip_space_and_newlines(&mut self) {
        loop {
            self.skip_inline_space();
            match self.peek() {
                Some('\n' | '\r') => self.pos += 1,
                _ => break,
            }
        }
    }

    fn skip_separators(&mut self) {
        loop {
            self.skip_space_and_newlines();
            if self.peek() == Some(';') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn pipeline(&mut self, in_parens: bool) -> Result<Pipeline, ParseError> {
        let mut commands = vec![self.command(in_parens)?];
        loop {
            self.skip_inline_space();
            if self.peek() != Some('|') {
                break;
            }
            self.pos += 1;
            // A line break may follow the pipe.
            self.skip_space_and_newlines();
            commands.push(self.command(in_parens)?);
        }
        Ok(Pipeline { commands })
    }

    fn command(&mut self, in_parens: bool) -> Result<Command, ParseError> {
        self.skip_inline_space();
        let name = match self.peek() {
            Some('|') => return Err(self.error("An empty pipe element is not allowed.")),
            None | Some('\n' | '\r' | ';') => return Err(self.error("An empty pipe element is not allowed.")),
            Some('$') if self.peek_at(1).is_some_and(|c| c.is_alphabetic()) => {
                return Err(self.error(
                    "Variables and assignments aren't supported in Mailroom's cmdlet mode; write the value where it is used.",
                ));
            }
            Some('{') => {
                return Err(self.error("Script blocks ({ ... }) aren't supported in Mailroom's cmdlet mode."));
            }
            _ => self.word(false)?,
        };
        let mut args = Vec::new();
        loop {
            self.skip_inline_space();
            match self.peek() {
                None | Some('\n' | '\r' | ';' | '|') => break,
                Some(')') if in_parens => break,
                Some(dash)
                    if is_dash(dash) && self.peek_at(1).is_some_and(|c| c.is_alphabetic() || c == '_') =>
                {
                    self.pos += 1;
                    let start = self.pos;
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                        self.pos += 1;
                    }
                    let param: String = self.chars[start..self.pos].iter().collect();
                    let value = if self.peek() == Some(':') {
                        self.pos += 1;
                        self.skip_inline_space();
                        Some(self.value()?)
                    } else {
                        None
                    };
                    args.push(Arg::Parameter { name: param, value });
                }
                Some(_) => args.push(Arg::Value(self.value()?)),
            }
        }
        Ok(Command { name, args })
    }

    /// A value, with `a, b, c` making an array.
    fn value(&mut self) -> Result<Expr, ParseError> {
        let first = self.primary()?;
        let mut items = vec![first];
        loop {
            self.skip_inline_space();
            if self.peek() != Some(',') {
                break;
            }
            self.pos += 1;
            self.skip_space_and_newlines();
            if matches!(self.peek(), None | Some(')' | '}' | ';' | '|')) {
                return Err(self.error("Missing expression after ','."));
            }
            items.push(self.primary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Array(items) })
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(
                self.error(format!("The expression is nested too deeply (more than {MAX_NESTING} levels)."))
            );
        }
        let result = self.primary_inner();
        self.depth -= 1;
        result
    }

    fn primary_inner(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(q) if is_single_quote(q) => self.single_quoted().map(Expr::Quoted),
            Some(q) if is_double_quote(q) => self.double_quoted().map(Expr::Quoted),
            Some('$') => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                if start == self.pos {
                    return Err(self.error("A variable name is missing after '$'."));
                }
                Ok(Expr::Variable(self.chars[start..self.pos].iter().collect()))
            }
            Some('@') if self.peek_at(1) == Some('{') => self.hashtable(),
            Some('@') if self.peek_at(1) == Some('(') => {
                self.pos += 2;
                self.skip_space_and_newlines();
                let mut items = Vec::new();
                while self.peek() != Some(')') {
                    if self.at_end() {
                        return Err(self.error("Missing closing ')' in subexpression."));
                    }
                    match self.value()? {
                        Expr::Array(more) => items.extend(more),
                        one => items.push(one),
                    }
                    self.skip_separators();
                }
                self.pos += 1;
                Ok(Expr::Array(items))
            }
            Some('(') => {
                self.pos += 1;
                self.skip_space_and_newlines();
                let inner = self.pipeline(true)?;
                self.skip_space_and_newlines();
                if self.peek() != Some(')') {
                    return Err(self.error("Missing closing ')' in expression."));
                }
                self.pos += 1;
                Ok(Expr::SubExpression(Box::new(inner)))
            }
            Some('{') => {
                Err(self.error("Script blocks ({ ... }) aren't supported in Mailroom's cmdlet mode."))
            }
            Some(c @ (')' | '}' | ',' | '|' | ';')) => {
                Err(self.error(format!("Unexpected token '{c}' in expression or statement.")))
            }
            None => Err(self.error("A value is missing at the end of the line.")),
            Some(_) => self.word(false).map(Expr::Bare),
        }
    }

    /// An unquoted word. In a hashtable key, `=` also ends it.
    fn word(&mut self, key: bool) -> Result<String, ParseError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if ends_word(c) || (key && c == '=') {
                break;
            }
            if c == '`' {
                // Backtick escapes the next character.
                self.pos += 1;
                match self.peek() {
                    Some(next) => out.push(next),
                    None => break,
                }
                self.pos += 1;
                continue;
            }
            out.push(c);
            self.pos += 1;
        }
        if out.is_empty() {
            let c = self.peek().map_or_else(|| "end of line".to_string(), |c| c.to_string());
            return Err(self.error(format!("Unexpected token '{c}' in expression or statement.")));
        }
        Ok(out)
    }

    fn single_quoted(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.error("The string is missing the terminator: '."));
                }
                Some(q) if is_single_quote(q) && self.peek_at(1).is_some_and(is_single_quote) => {
                    out.push(q);
                    self.pos += 2;
                }
                Some(q) if is_single_quote(q) => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.error("The string is missing the terminator: \"."));
                }
                Some(q) if is_double_quote(q) && self.peek_at(1).is_some_and(is_double_quote) => {
                    out.push(q);
                    self.pos += 2;
                }
                Some(q) if is_double_quote(q) => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('`') => {
                    // about_Special_Characters
                    let escaped = match self.peek_at(1) {
                        Some('0') => '\0',
                        Some('a') => '\u{7}',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('v') => '\u{b}',
                        Some(other) => other,
                        None => {
                            self.pos = open;
                            return Err(self.error("The string is missing the terminator: \"."));
                        }
                    };
                    out.push(escaped);
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn hashtable(&mut self) -> Result<Expr, ParseError> {
        let open = self.pos;
        self.pos += 2;
        let mut entries = Vec::new();
        loop {
            self.skip_separators();
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(Expr::Hashtable(entries));
                }
                None => {
                    self.pos = open;
                    return Err(self.error("Missing closing '}' in statement block or type definition."));
                }
                _ => {}
            }
            let key = match self.peek() {
                Some(q) if is_single_quote(q) => self.single_quoted()?,
                Some(q) if is_double_quote(q) => self.double_quoted()?,
                _ => self.word(true)?,
            };
            self.skip_inline_space();
            if self.peek() != Some('=') {
                return Err(self.error(format!("Missing '=' operator after key '{key}' in hash literal.")));
            }
            self.pos += 1;
            self.skip_space_and_newlines();
            let value = self.value()?;
            entries.push((key, value));
            self.skip_inline_space();
            match self.peek() {
                Some(';' | '\n' | '\r' | '}') => {}
                None => {
                    self.pos = open;
                    return Err(self.error("Missing closing '}' in statement block or type definition."));
                }
                Some(c) => return Err(self.error(format!("Unexpected token '{c}' in hash literal."))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Hostile input: any mix of the characters that mean something.
        #[test]
        fn never_panics_on_syntax_soup(source in "[-a-zA-Z0-9 '\"`$@{}();,|=#:\n\r\t.]{0,200}") {
            if let Err(err) = parse_script(&source) {
                prop_assert!(err.line >= 1 && err.column >= 1);
                prop_assert!(!err.message.is_empty());
            }
        }

        #[test]
        fn never_panics_on_any_text(source in "\\PC{0,120}") {
            let _ = parse_script(&source);
        }

        /// A quoted value comes back exactly, whatever it holds.
        #[test]
        fn single_quoted_text_round_trips(text in "[^\n\r]{0,60}") {
            let source = format!("Set-Mailbox x -DisplayName '{}'", text.replace('\'', "''"));
            let commands = one(&source);
            prop_assert_eq!(&commands[0].args[2], &Arg::Value(Expr::Quoted(text)));
        }
    }

    fn bare(s: &str) -> Expr {
        Expr::Bare(s.into())
    }
    fn quoted(s: &str) -> Expr {
        Expr::Quoted(s.into())
    }
    fn param(name: &str) -> Arg {
        Arg::Parameter { name: name.into(), value: None }
    }
    fn param_with(name: &str, value: Expr) -> Arg {
        Arg::Parameter { name: name.into(), value: Some(value) }
    }
    fn one(source: &str) -> Vec<Command> {
        let mut script = parse_script(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(script.len(), 1, "{source}");
        script.remove(0).commands
    }

    /// Known answers: source → the commands it parses to.
    #[test]
    fn known_answers() {
        let table: Vec<(&str, Vec<Command>)> = vec![
            ("Get-Mailbox", vec![Command { name: "Get-Mailbox".into(), args: vec![] }]),
            (
                "Get-Mailbox sales@contoso.com",
                vec![Command {
                    name: "Get-Mailbox".into(),
                    args: vec![Arg::Value(bare("sales@contoso.com"))],
                }],
            ),
            (
                r#"New-Mailbox -Shared -Name "Sales Department" -Alias Sales"#,
                vec![Command {
                    name: "New-Mailbox".into(),
                    args: vec![
                        param("Shared"),
                        param("Name"),
                        Arg::Value(quoted("Sales Department")),
                        param("Alias"),
                        Arg::Value(bare("Sales")),
                    ],
                }],
            ),
            (
                "Remove-Mailbox x -Confirm:$false",
                vec![Command {
                    name: "Remove-Mailbox".into(),
                    args: vec![Arg::Value(bare("x")), param_with("Confirm", Expr::Variable("false".into()))],
                }],
            ),
            (
                "Set-Mailbox x -AutoMapping: $true",
                vec![Command {
                    name: "Set-Mailbox".into(),
                    args: vec![
                        Arg::Value(bare("x")),
                        param_with("AutoMapping", Expr::Variable("true".into())),
                    ],
                }],
            ),
            (
                "Set-Mailbox x -GrantSendOnBehalfTo alice, 'bob smith',carol",
                vec![Command {
                    name: "Set-Mailbox".into(),
                    args: vec![
                        Arg::Value(bare("x")),
                        param("GrantSendOnBehalfTo"),
                        Arg::Value(Expr::Array(vec![bare("alice"), quoted("bob smith"), bare("carol")])),
                    ],
                }],
            ),
            (
                r#"Set-Mailbox x -EmailAddresses @{Add="smtp:a@b.com","smtp:c@b.com"; Remove='d@b.com'}"#,
                vec![Command {
                    name: "Set-Mailbox".into(),
                    args: vec![
                        Arg::Value(bare("x")),
                        param("EmailAddresses"),
                        Arg::Value(Expr::Hashtable(vec![
                            ("Add".into(), Expr::Array(vec![quoted("smtp:a@b.com"), quoted("smtp:c@b.com")])),
                            ("Remove".into(), quoted("d@b.com")),
                        ])),
                    ],
                }],
            ),
            (
                "Set-Mailbox x -IssueWarningQuota 49GB -ProhibitSendQuota '49.5 GB' -ProhibitSendReceiveQuota Unlimited",
                vec![Command {
                    name: "Set-Mailbox".into(),
                    args: vec![
                        Arg::Value(bare("x")),
                        param("IssueWarningQuota"),
                        Arg::Value(bare("49GB")),
                        param("ProhibitSendQuota"),
                        Arg::Value(quoted("49.5 GB")),
                        param("ProhibitSendReceiveQuota"),
                        Arg::Value(bare("Unlimited")),
                    ],
                }],
            ),
            (
                "New-Mailbox -Name Alice -Password (ConvertTo-SecureString -String 'P@ss''word1' -AsPlainText -Force)",
                vec![Command {
                    name: "New-Mailbox".into(),
                    args: vec![
                        param("Name"),
                        Arg::Value(bare("Alice")),
                        param("Password"),
                        Arg::Value(Expr::SubExpression(Box::new(Pipeline {
                            commands: vec![Command {
                                name: "ConvertTo-SecureString".into(),
                                args: vec![
                                    param("String"),
                                    Arg::Value(quoted("P@ss'word1")),
                                    param("AsPlainText"),
                                    param("Force"),
                                ],
                            }],
                        }))),
                    ],
                }],
            ),
            (
                "Get-Mailbox x | Set-Mailbox -DisplayName \"A `\"quoted`\" \"\"name\"\"\"",
                vec![
                    Command { name: "Get-Mailbox".into(), args: vec![Arg::Value(bare("x"))] },
                    Command {
                        name: "Set-Mailbox".into(),
                        args: vec![param("DisplayName"), Arg::Value(quoted("A \"quoted\" \"name\""))],
                    },
                ],
            ),
            (
                "Get-Mailbox -RecipientTypeDetails @('SharedMailbox', UserMailbox) # all of them",
                vec![Command {
                    name: "Get-Mailbox".into(),
                    args: vec![
                        param("RecipientTypeDetails"),
                        Arg::Value(Expr::Array(vec![quoted("SharedMailbox"), bare("UserMailbox")])),
                    ],
                }],
            ),
            (
                "Set-Mailbox x -ForwardingSmtpAddress $null -Name 'with $dollar'",
                vec![Command {
                    name: "Set-Mailbox".into(),
                    args: vec![
                        Arg::Value(bare("x")),
                        param("ForwardingSmtpAddress"),
                        Arg::Value(Expr::Variable("null".into())),
                        param("Name"),
                        Arg::Value(quoted("with $dollar")),
                    ],
                }],
            ),
            (
                "Get-Mailbox `\n  -Identity x |\n  fl",
                vec![
                    Command {
                        name: "Get-Mailbox".into(),
                        args: vec![param("Identity"), Arg::Value(bare("x"))],
                    },
                    Command { name: "fl".into(), args: vec![] },
                ],
            ),
            (
                "Set-Foo -Count -5 -Name Marketing-SG",
                vec![Command {
                    name: "Set-Foo".into(),
                    args: vec![
                        param("Count"),
                        Arg::Value(bare("-5")),
                        param("Name"),
                        Arg::Value(bare("Marketing-SG")),
                    ],
                }],
            ),
        ];
        for (source, expected) in table {
            assert_eq!(one(source), expected, "{source}");
        }
    }

    #[test]
    fn the_seed_pipeline_parses() {
        let commands = one(
            r#"New-Mailbox -Shared -Name "Sales Department" -DisplayName "Sales Department" -Alias Sales | Set-Mailbox -GrantSendOnBehalfTo MarketingSG | Add-MailboxPermission -User MarketingSG -AccessRights FullAccess -InheritanceType All"#,
        );
        let names: Vec<_> = commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["New-Mailbox", "Set-Mailbox", "Add-MailboxPermission"]);
        assert_eq!(commands[2].args.len(), 6);
    }

    #[test]
    fn pasted_typography_reads_like_ascii() {
        // seeds/003: the Dutch article writes the seed pipeline with an en dash.
        let commands = one(
            "New-Mailbox -Shared -Name \"Sales Department\" -DisplayName \"Sales Department\" -Alias Sales | Set-Mailbox -GrantSendOnBehalfTo MarketingSG | Add-MailboxPermission -User MarketingSG -AccessRights FullAccess \u{2013}InheritanceType All",
        );
        assert_eq!(commands[2].args[4], param("InheritanceType"));
        let commands = one(
            "Set-Mailbox \u{201c}Sales Department\u{201d} \u{2014}DisplayName \u{2018}It\u{2019}\u{2019}s\u{2019}",
        );
        assert_eq!(
            commands[0].args,
            vec![
                Arg::Value(quoted("Sales Department")),
                param("DisplayName"),
                Arg::Value(quoted("It\u{2019}s"))
            ]
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        for source in [
            format!("Get-Mailbox {}", "(Get-Mailbox ".repeat(10_000)),
            format!("Get-Mailbox {}", "@(".repeat(10_000)),
            format!("Set-Mailbox x -EmailAddresses {}", "@{a=".repeat(10_000)),
        ] {
            let err = parse_script(&source).expect_err("too deep");
            assert!(err.message.contains("nested too deeply"), "{}", err.message);
        }
        let fine = format!("Get-Mailbox {}x{}", "@(".repeat(10), ")".repeat(10));
        assert!(parse_script(&fine).is_ok());
    }

    #[test]
    fn scripts_split_on_lines_and_semicolons() {
        let script =
            parse_script("Get-Mailbox a; Get-Mailbox b\n\n# comment only\r\nGet-Mailbox c\n").unwrap();
        assert_eq!(script.len(), 3);
        assert!(parse_script("  \n # nothing\n").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_problem_and_place() {
        let cases = [
            ("Get-Mailbox 'open", "The string is missing the terminator: '.", 1, 13),
            ("Get-Mailbox \"open", "The string is missing the terminator: \".", 1, 13),
            ("Set-Mailbox x -EmailAddresses @{Add='a'", "Missing closing '}'", 1, 31),
            ("Set-Mailbox x -EmailAddresses @{Add 'a'}", "Missing '=' operator after key 'Add'", 1, 37),
            ("Get-Mailbox |", "An empty pipe element is not allowed.", 1, 14),
            ("| Get-Mailbox", "An empty pipe element is not allowed.", 1, 1),
            ("Set-Mailbox x -Name a,", "Missing expression after ','.", 1, 23),
            ("New-Mailbox -Password (ConvertTo-SecureString x", "Missing closing ')'", 1, 48),
            ("Get-Mailbox x)", "Unexpected token ')'", 1, 14),
            ("$x = Get-Mailbox", "Variables and assignments aren't supported", 1, 1),
            ("Get-Mailbox | ? { $_.Name }", "Script blocks", 1, 17),
            ("Get-Mailbox\nGet-Mailbox 'x", "missing the terminator", 2, 13),
        ];
        for (source, message, line, column) in cases {
            let err = parse_script(source).expect_err(source);
            assert!(err.message.contains(message), "{source}: {}", err.message);
            assert_eq!((err.line, err.column), (line, column), "{source}: {err}");
        }
    }
}
