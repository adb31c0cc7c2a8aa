//! The Exchange-compatible mode, driven through the built binary on a
//! temporary data directory: every cmdlet, `--json` output, and every error's
//! exit code and message.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::Cli;
use serde_json::Value;

const SEED: &str = r#"New-Mailbox -Shared -Name "Sales Department" -DisplayName "Sales Department" -Alias Sales | Set-Mailbox -GrantSendOnBehalfTo MarketingSG | Add-MailboxPermission -User MarketingSG -AccessRights FullAccess -InheritanceType All"#;

fn org() -> Cli {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli
}

fn with_users(cli: &Cli) {
    for name in ["alice", "bob"] {
        cli.exo(&format!(
            "New-Mailbox -Name {name} -PrimarySmtpAddress {name}@contoso.com -Password (ConvertTo-SecureString -String 'Pass-word-{name}1' -AsPlainText -Force)"
        ));
    }
}

fn one(cli: &Cli, pipeline: &str) -> Value {
    let mut items = cli.exo_json(pipeline);
    assert_eq!(items.len(), 1, "{pipeline}: {items:?}");
    items.remove(0)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|s| s.as_str().expect("string").to_string()).collect()
}

#[test]
fn the_seed_pipeline_works_as_written() {
    let cli = org();
    cli.exo("New-DistributionGroup -Name MarketingSG -Type Security");
    let out = cli.run(&["--json", "exo", SEED]).ok();
    let shown = out.json_array();
    assert_eq!(shown.len(), 1, "only Add-MailboxPermission prints: {shown:?}");
    assert_eq!(shown[0]["Identity"], "Sales Department");
    assert_eq!(shown[0]["User"], "MarketingSG");
    assert_eq!(strings(&shown[0]["AccessRights"]), ["FullAccess"]);
    assert_eq!(shown[0]["IsInherited"], false);
    assert_eq!(shown[0]["Deny"], false);

    let sales = one(&cli, "Get-Mailbox -Identity Sales");
    assert_eq!(sales["Name"], "Sales Department");
    assert_eq!(sales["DisplayName"], "Sales Department");
    assert_eq!(sales["Alias"], "Sales");
    assert_eq!(sales["PrimarySmtpAddress"], "Sales@contoso.com");
    assert_eq!(strings(&sales["EmailAddresses"]), ["SMTP:Sales@contoso.com"]);
    assert_eq!(sales["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(strings(&sales["GrantSendOnBehalfTo"]), ["MarketingSG"]);
    assert_eq!(sales["AccountDisabled"], true);

    // The text form reads like PowerShell's table.
    let text = cli.exo("Get-MailboxPermission sales@contoso.com").stdout;
    assert!(text.contains("Identity         User        AccessRights IsInherited Deny"), "{text}");
    assert!(text.contains("Sales Department MarketingSG {FullAccess} False       False"), "{text}");
}

#[test]
fn the_seed_pipeline_works_as_pasted_from_the_dutch_article() {
    // seeds/003 writes "–InheritanceType" with an en dash.
    let cli = org();
    cli.exo("New-DistributionGroup -Name MarketingSG -Type Security");
    let pasted = SEED.replace("-InheritanceType", "\u{2013}InheritanceType");
    let shown = cli.run(&["--json", "exo", &pasted]).ok().json_array();
    assert_eq!(shown[0]["User"], "MarketingSG");
}

#[test]
fn what_if_checks_the_rules_and_keeps_json_clean() {
    let cli = org();
    cli.exo("New-Mailbox -Shared -Name Sales");
    cli.run(&["exo", "New-Mailbox -Shared -Name Sales -WhatIf"])
        .fails_with(1, "The name \"Sales\" is already being used.");
    cli.run(&["exo", "Set-Mailbox Sales -IssueWarningQuota 60GB -WhatIf"])
        .fails_with(1, "must be less than or equal to");
    let run = cli.run(&["--json", "exo", "Set-Mailbox Sales -DisplayName X -WhatIf"]).ok();
    assert!(run.json_array().is_empty(), "stdout stays JSON");
    assert!(
        run.stderr.contains("What if: Performing the operation \"Set Mailbox\" on target \"Sales\"."),
        "{}",
        run.stderr
    );
    assert_eq!(one(&cli, "Get-Mailbox Sales")["DisplayName"], "Sales");
}

#[test]
fn new_mailbox_shared_and_user() {
    let cli = org();
    let shared = one(&cli, r#"New-Mailbox -Shared -Name "Info Desk""#);
    assert_eq!(shared["Alias"], "InfoDesk");
    assert_eq!(shared["PrimarySmtpAddress"], "InfoDesk@contoso.com");
    assert_eq!(shared["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(shared["IssueWarningQuota"], "49 GB (52,613,349,376 bytes)");
    assert_eq!(shared["ProhibitSendQuota"], "49.5 GB (53,150,220,288 bytes)");
    assert_eq!(shared["ProhibitSendReceiveQuota"], "50 GB (53,687,091,200 bytes)");

    let user = one(
        &cli,
        "New-Mailbox -Name 'Carol Jones' -Alias carol -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-1'",
    );
    assert_eq!(user["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(user["AccountDisabled"], false);

    cli.run(&["exo", "New-Mailbox -Name Dave"]).fails_with(1, "New-Mailbox: A user mailbox needs a password");
    cli.run(&["exo", "New-Mailbox -Shared -Name Eve -Password 'Some-pass-1'"])
        .fails_with(1, "The Password parameter can't be used with Shared");
    cli.run(&["exo", "New-Mailbox -Name Frank -Password 'short'"])
        .fails_with(1, "The password must be at least 8 characters long.");
    cli.run(&["exo", "New-Mailbox -Shared"]).fails_with(1, "missing mandatory parameters: Name.");
}

#[test]
fn proxy_address_conflict_has_the_exchange_message() {
    let cli = org();
    cli.exo("New-Mailbox -Shared -Name Info -PrimarySmtpAddress info@contoso.com");
    let run = cli.run(&["exo", "New-Mailbox -Shared -Name 'Info 2' -PrimarySmtpAddress info@contoso.com"]);
    run.fails_with(
        1,
        "The proxy address \"SMTP:info@contoso.com\" is already being used by the proxy addresses of \"Info\". Choose another proxy address.",
    );
    cli.run(&["exo", "Get-Mailbox 'Info 2'"]).fails_with(1, "couldn't be found");
    // Another domain's info@ is another address.
    cli.run(&["domain", "add", "fabrikam.com"]).ok();
    cli.exo("New-Mailbox -Shared -Name 'Info Fabrikam' -PrimarySmtpAddress info@fabrikam.com");
}

#[test]
fn get_mailbox_filters_by_type_and_identity() {
    let cli = org();
    with_users(&cli);
    cli.exo("New-Mailbox -Shared -Name Info");
    cli.exo("New-DistributionGroup -Name Staff");
    let names =
        |items: Vec<Value>| items.iter().map(|i| i["Name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(cli.exo_json("Get-Mailbox")), ["admin", "alice", "bob", "Info"]);
    assert_eq!(names(cli.exo_json("Get-Mailbox -RecipientTypeDetails SharedMailbox")), ["Info"]);
    assert_eq!(names(cli.exo_json("Get-Mailbox -RecipientTypeDetails UserMailbox,SharedMailbox")).len(), 4);
    assert_eq!(names(cli.exo_json("Get-Mailbox -ResultSize 2")).len(), 2);
    cli.run(&["exo", "Get-Mailbox Staff"]).fails_with(1, "couldn't be found");
    cli.run(&["exo", "Get-Mailbox -RecipientTypeDetails RoomMailbox"])
        .fails_with(1, "does not belong to the set");
    let listed = cli.exo("Get-Mailbox -RecipientTypeDetails SharedMailbox").stdout;
    assert!(listed.contains("Name Alias RecipientTypeDetails PrimarySmtpAddress"), "{listed}");
}

#[test]
fn set_mailbox_changes_every_setting() {
    let cli = org();
    with_users(&cli);
    cli.exo("New-Mailbox -Shared -Name Sales");
    cli.exo(
        "Set-Mailbox Sales -DisplayName 'Sales Team' -ForwardingAddress alice -DeliverToMailboxAndForward $true \
         -MessageCopyForSentAsEnabled $true -MessageCopyForSendOnBehalfEnabled:$true \
         -IssueWarningQuota 1GB -ProhibitSendQuota '1.5 GB' -ProhibitSendReceiveQuota Unlimited \
         -GrantSendOnBehalfTo alice,bob",
    );
    let sales = one(&cli, "Get-Mailbox Sales");
    assert_eq!(sales["DisplayName"], "Sales Team");
    assert_eq!(sales["ForwardingAddress"], "alice");
    assert_eq!(sales["DeliverToMailboxAndForward"], true);
    assert_eq!(sales["MessageCopyForSentAsEnabled"], true);
    assert_eq!(sales["MessageCopyForSendOnBehalfEnabled"], true);
    assert_eq!(sales["IssueWarningQuota"], "1 GB (1,073,741,824 bytes)");
    assert_eq!(sales["ProhibitSendQuota"], "1.5 GB (1,610,612,736 bytes)");
    assert_eq!(sales["ProhibitSendReceiveQuota"], "Unlimited");
    assert_eq!(strings(&sales["GrantSendOnBehalfTo"]), ["alice", "bob"]);

    cli.exo("Set-Mailbox Sales -GrantSendOnBehalfTo @{Remove='alice'} -ForwardingAddress $null -ForwardingSmtpAddress smtp:archive@fabrikam.com");
    let sales = one(&cli, "Get-Mailbox Sales");
    assert_eq!(strings(&sales["GrantSendOnBehalfTo"]), ["bob"]);
    assert!(sales["ForwardingAddress"].is_null());
    assert_eq!(sales["ForwardingSmtpAddress"], "smtp:archive@fabrikam.com");

    // Addresses: add, make primary, remove.
    cli.exo(r#"Set-Mailbox Sales -EmailAddresses @{Add="smtp:salg@contoso.com","smtp:ventas@contoso.com"}"#);
    cli.exo("Set-Mailbox Sales -PrimarySmtpAddress team@contoso.com");
    cli.exo("Set-Mailbox Sales -EmailAddresses @{Remove='ventas@contoso.com'}");
    let sales = one(&cli, "Get-Mailbox salg@contoso.com");
    assert_eq!(sales["PrimarySmtpAddress"], "team@contoso.com");
    assert_eq!(
        strings(&sales["EmailAddresses"]),
        ["SMTP:team@contoso.com", "smtp:Sales@contoso.com", "smtp:salg@contoso.com"]
    );
    cli.exo("Set-Mailbox Sales -EmailAddresses SMTP:sales@contoso.com,smtp:salg@contoso.com");
    assert_eq!(
        strings(&one(&cli, "Get-Mailbox Sales")["EmailAddresses"]),
        ["SMTP:sales@contoso.com", "smtp:salg@contoso.com"]
    );

    // Nothing to change: Exchange's warning, success.
    let run = cli.exo("Set-Mailbox Sales");
    assert!(
        run.stderr.contains(
            "WARNING: The command completed successfully but no settings of 'Sales' have been modified."
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn set_mailbox_refuses_bad_values_and_changes_nothing() {
    let cli = org();
    with_users(&cli);
    cli.exo("New-Mailbox -Shared -Name Sales");
    cli.run(&["exo", "Set-Mailbox Sales -IssueWarningQuota 60GB"]).fails_with(
        1,
        "\"IssueWarningQuota\" must be less than or equal to that of property \"ProhibitSendQuota\"",
    );
    cli.run(&["exo", "Set-Mailbox Sales -ProhibitSendQuota lots"]).fails_with(1, "isn't a valid size");
    cli.run(&["exo", "Set-Mailbox Sales -DeliverToMailboxAndForward yes"])
        .fails_with(1, "Boolean parameters accept only Boolean values and numbers");
    cli.run(&["exo", "Set-Mailbox Sales -GrantSendOnBehalfTo someone@fabrikam.com"])
        .fails_with(1, "\"someone@fabrikam.com\" is outside your organization.");
    cli.run(&["exo", "Set-Mailbox Sales -ForwardingAddress nobody"])
        .fails_with(1, "'nobody' couldn't be found");
    cli.run(&["exo", "Set-Mailbox Sales -EmailAddresses @{Add='x@fabrikam.com'}"])
        .fails_with(1, "isn't an accepted domain");
    cli.run(&["exo", "Set-Mailbox Sales -EmailAddresses @{Add='smtp:alice@contoso.com'}"]).fails_with(
        1,
        "The proxy address \"smtp:alice@contoso.com\" is already being used by the proxy addresses of \"alice\".",
    );
    cli.run(&["exo", "Set-Mailbox Sales -Type Room"])
        .fails_with(1, "does not belong to the set \"Regular,Shared\"");
    cli.run(&["exo", "Set-Mailbox Sales -Bogus 1"])
        .fails_with(1, "A parameter cannot be found that matches parameter name 'Bogus'.");
    // A bad value after a good one: the good one isn't applied either.
    cli.run(&["exo", "Set-Mailbox Sales -DisplayName Changed -ForwardingAddress nobody"])
        .fails_with(1, "couldn't be found");
    let sales = one(&cli, "Get-Mailbox Sales");
    assert_eq!(sales["DisplayName"], "Sales");
    assert_eq!(sales["IssueWarningQuota"], "49 GB (52,613,349,376 bytes)");
    assert!(strings(&sales["GrantSendOnBehalfTo"]).is_empty());
}

#[test]
fn conversion_between_user_and_shared() {
    let cli = org();
    with_users(&cli);
    cli.exo("Set-Mailbox alice -Type Shared");
    let alice = one(&cli, "Get-Mailbox alice");
    assert_eq!(alice["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(alice["AccountDisabled"], true);
    cli.run(&["exo", "Set-Mailbox alice -Type Regular"])
        .fails_with(1, "A password is required to convert \"alice\"");
    cli.run(&["exo", "Set-Mailbox alice -AccountDisabled $false"])
        .fails_with(1, "Sign-in can't be allowed for the shared mailbox");
    cli.exo("Set-Mailbox alice -Type Regular -Password (ConvertTo-SecureString -String 'New-pass-word1' -AsPlainText -Force)");
    let alice = one(&cli, "Get-Mailbox alice");
    assert_eq!(alice["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(alice["AccountDisabled"], false);
    cli.run(&["exo", "Set-Mailbox bob -Password 'Some-pass-1'"])
        .fails_with(1, "The Password parameter is used with -Type Regular");
    cli.exo("Set-Mailbox bob -AccountDisabled $true");
    assert_eq!(one(&cli, "Get-Mailbox bob")["AccountDisabled"], true);
}

#[test]
fn mailbox_permissions_add_get_remove() {
    let cli = org();
    with_users(&cli);
    cli.exo("New-Mailbox -Shared -Name Sales");
    let added = one(
        &cli,
        "Add-MailboxPermission -Identity Sales -User alice -AccessRights FullAccess -InheritanceType All",
    );
    assert_eq!(added["User"], "alice@contoso.com");
    assert_eq!(added["AutoMapping"], true);
    let added =
        one(&cli, "Add-MailboxPermission Sales -User bob -AccessRights FullAccess -AutoMapping $false");
    assert_eq!(added["AutoMapping"], false);

    let again =
        cli.run(&["--json", "exo", "Add-MailboxPermission Sales -User alice -AccessRights FullAccess"]).ok();
    assert!(
        again.stderr.contains("WARNING: An existing permission entry was found for user: alice@contoso.com."),
        "{}",
        again.stderr
    );
    assert!(again.json_array().is_empty());

    let all = cli.exo_json("Get-MailboxPermission Sales");
    assert_eq!(all.len(), 2);
    assert_eq!(cli.exo_json("Get-MailboxPermission Sales -User bob").len(), 1);

    cli.run(&["exo", "Remove-MailboxPermission Sales -User alice -AccessRights FullAccess"]).fails_with(
        1,
        "This action needs confirmation, and there is no terminal to ask on. Add -Confirm:$false",
    );
    assert_eq!(cli.exo_json("Get-MailboxPermission Sales").len(), 2, "nothing removed without confirmation");
    cli.exo("Remove-MailboxPermission Sales -User alice -AccessRights FullAccess -InheritanceType All -Confirm:$false");
    assert_eq!(cli.exo_json("Get-MailboxPermission Sales").len(), 1);
    let none = cli.exo("Remove-MailboxPermission Sales -User alice -AccessRights FullAccess -Confirm:$false");
    assert!(none.stderr.contains("because the ACE doesn't exist on the object"), "{}", none.stderr);

    cli.run(&["exo", "Add-MailboxPermission Sales -User x@fabrikam.com -AccessRights FullAccess"])
        .fails_with(1, "\"x@fabrikam.com\" is outside your organization. Only users and security groups of this organization can hold permissions on a mailbox.");
    cli.run(&["exo", "Add-MailboxPermission Sales -User ghost -AccessRights FullAccess"])
        .fails_with(1, "'ghost' couldn't be found");
    cli.run(&["exo", "Add-MailboxPermission Sales -User alice -AccessRights ReadPermission"])
        .fails_with(1, "The access right ReadPermission isn't supported");
    cli.run(&[
        "exo",
        "Add-MailboxPermission Sales -User alice -AccessRights FullAccess -InheritanceType None",
    ])
    .fails_with(1, "InheritanceType None isn't supported");
    cli.run(&["exo", "Add-MailboxPermission Sales -User alice -AccessRights FullAccess -Deny"])
        .fails_with(1, "Deny entries aren't supported");
    cli.run(&["exo", "Add-MailboxPermission Sales -User alice"])
        .fails_with(1, "missing mandatory parameters: AccessRights.");
    cli.exo("New-DistributionGroup -Name Newsletter");
    cli.run(&["exo", "Add-MailboxPermission Sales -User Newsletter -AccessRights FullAccess"])
        .fails_with(1, "it is a distribution group");
}

#[test]
fn recipient_permissions_add_get_remove() {
    let cli = org();
    with_users(&cli);
    cli.exo("New-Mailbox -Shared -Name Sales");
    cli.run(&["exo", "Add-RecipientPermission Sales -Trustee alice -AccessRights SendAs"])
        .fails_with(1, "This action needs confirmation");
    let added =
        one(&cli, "Add-RecipientPermission Sales -Trustee alice -AccessRights SendAs -Confirm:$false");
    assert_eq!(added["Identity"], "Sales");
    assert_eq!(added["Trustee"], "alice@contoso.com");
    assert_eq!(added["AccessControlType"], "Allow");
    assert_eq!(strings(&added["AccessRights"]), ["SendAs"]);
    let again = cli.exo("Add-RecipientPermission Sales -Trustee alice -AccessRights SendAs -Confirm:$false");
    assert!(
        again.stderr.contains("The appropriate access control entry is already present"),
        "{}",
        again.stderr
    );
    assert_eq!(cli.exo_json("Get-RecipientPermission Sales").len(), 1);
    assert_eq!(cli.exo_json("Get-RecipientPermission -Trustee alice").len(), 1);
    assert_eq!(cli.exo_json("Get-RecipientPermission -Trustee bob").len(), 0);
    cli.run(&["exo", "Add-RecipientPermission Sales -Trustee bob -AccessRights FullAccess -Confirm:$false"])
        .fails_with(1, "does not belong to the set \"SendAs\"");
    cli.exo("Remove-RecipientPermission Sales -Trustee alice -AccessRights SendAs -Confirm:$false");
    assert!(cli.exo_json("Get-RecipientPermission Sales").is_empty());
}

#[test]
fn distribution_groups_and_members() {
    let cli = org();
    with_users(&cli);
    let group = one(&cli, "New-DistributionGroup -Name 'All Staff' -Members alice,bob");
    assert_eq!(group["GroupType"], "Universal");
    assert_eq!(group["RecipientTypeDetails"], "MailUniversalDistributionGroup");
    assert_eq!(group["PrimarySmtpAddress"], "AllStaff@contoso.com");
    let sg = one(
        &cli,
        "New-DistributionGroup -Name 'Marketing SG' -Alias MarketingSG -Type Security -PrimarySmtpAddress marketing@contoso.com",
    );
    assert_eq!(sg["GroupType"], "Universal, SecurityEnabled");
    assert_eq!(sg["RecipientTypeDetails"], "MailUniversalSecurityGroup");

    cli.exo("Add-DistributionGroupMember -Identity 'All Staff' -Member MarketingSG");
    let members: Vec<String> = cli
        .exo_json("Get-DistributionGroupMember 'All Staff'")
        .iter()
        .map(|m| m["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(members, ["alice", "bob", "Marketing SG"]);
    cli.run(&["exo", "Add-DistributionGroupMember 'All Staff' -Member alice"])
        .fails_with(1, "The recipient \"alice\" is already a member of the group \"All Staff\".");
    cli.run(&["exo", "Add-DistributionGroupMember MarketingSG -Member 'All Staff'"]).fails_with(
        1,
        "can't be added to \"Marketing SG\" because \"Marketing SG\" is already a member of \"All Staff\"",
    );
    cli.exo("Remove-DistributionGroupMember 'All Staff' -Member bob -Confirm:$false");
    cli.run(&["exo", "Remove-DistributionGroupMember 'All Staff' -Member bob -Confirm:$false"])
        .fails_with(1, "The recipient \"bob\" isn't a member of the group \"All Staff\".");
    assert_eq!(cli.exo_json("Get-DistributionGroup").len(), 2);
    cli.exo("Remove-DistributionGroup MarketingSG -Confirm:$false");
    assert_eq!(cli.exo_json("Get-DistributionGroup").len(), 1);
    cli.run(&["exo", "Get-DistributionGroup alice"]).fails_with(1, "couldn't be found");
}

#[test]
fn auto_reply_configuration() {
    let cli = org();
    cli.exo("New-Mailbox -Shared -Name Support");
    let initial = one(&cli, "Get-MailboxAutoReplyConfiguration Support");
    assert_eq!(initial["AutoReplyState"], "Disabled");
    assert_eq!(initial["ExternalAudience"], "All");
    cli.exo(
        "Set-MailboxAutoReplyConfiguration -Identity Support -AutoReplyState Scheduled \
         -StartTime '12/24/2026 8:00 AM' -EndTime 2027-01-02T17:00:00Z \
         -InternalMessage 'Closed for the holidays.' -ExternalMessage \"We're back on 2 January.\" -ExternalAudience Known",
    );
    let config = one(&cli, "Get-MailboxAutoReplyConfiguration Support");
    assert_eq!(config["AutoReplyState"], "Scheduled");
    assert_eq!(config["StartTime"], "2026-12-24T08:00:00Z");
    assert_eq!(config["EndTime"], "2027-01-02T17:00:00Z");
    assert_eq!(config["InternalMessage"], "Closed for the holidays.");
    assert_eq!(config["ExternalMessage"], "We're back on 2 January.");
    assert_eq!(config["ExternalAudience"], "Known");
    cli.run(&["exo", "Set-MailboxAutoReplyConfiguration Support -EndTime 2026-01-01"])
        .fails_with(1, "The end time must be later than the start time.");
    cli.run(&["exo", "Set-MailboxAutoReplyConfiguration Support -StartTime tomorrow"])
        .fails_with(1, "isn't a valid date and time");
    cli.run(&["exo", "Set-MailboxAutoReplyConfiguration Support -AutoReplyState Sometimes"])
        .fails_with(1, "does not belong to the set \"Disabled,Enabled,Scheduled\"");
    cli.exo("Set-MailboxAutoReplyConfiguration Support -AutoReplyState Disabled");
    assert_eq!(one(&cli, "Get-MailboxAutoReplyConfiguration Support")["AutoReplyState"], "Disabled");
    let text = cli.exo("Get-MailboxAutoReplyConfiguration Support").stdout;
    assert!(text.contains("AutoReplyState   : Disabled"), "shown as a list: {text}");
}

#[test]
fn remove_mailbox_asks_first_and_what_if_changes_nothing() {
    let cli = org();
    cli.exo("New-Mailbox -Shared -Name Temp");
    cli.run(&["exo", "Remove-Mailbox Temp"])
        .fails_with(1, "Remove-Mailbox: Are you sure you want to perform this action?");
    let what_if = cli.exo("Remove-Mailbox Temp -WhatIf");
    assert_eq!(
        what_if.stdout.trim(),
        "What if: Performing the operation \"Remove Mailbox\" on target \"Temp\"."
    );
    cli.exo("Get-Mailbox Temp");
    let created = cli.exo("New-Mailbox -Shared -Name Other -WhatIf");
    assert!(
        created.stdout.contains("What if: Performing the operation \"Create Mailbox\" on target \"Other\".")
    );
    cli.run(&["exo", "Get-Mailbox Other"]).fails_with(1, "couldn't be found");
    cli.exo("Remove-Mailbox Temp -Confirm:$false");
    cli.run(&["exo", "Get-Mailbox Temp"])
        .fails_with(1, "The operation couldn't be performed because object 'Temp' couldn't be found.");
}

#[test]
fn get_recipient_and_accepted_domain() {
    let cli = org();
    cli.exo("New-Mailbox -Shared -Name Info");
    cli.exo("New-DistributionGroup -Name Staff -Type Security");
    let all = cli.exo_json("Get-Recipient");
    assert_eq!(all.len(), 3);
    let groups = cli.exo_json("Get-Recipient -RecipientTypeDetails MailUniversalSecurityGroup");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["Name"], "Staff");
    let domains = cli.exo_json("Get-AcceptedDomain");
    assert_eq!(domains.len(), 1);
    assert_eq!(domains[0]["DomainName"], "contoso.com");
    assert_eq!(domains[0]["Default"], true);
}

#[test]
fn non_admins_are_refused_with_the_exchange_message() {
    let cli = org();
    with_users(&cli);
    cli.run(&["exo", "--as", "alice@contoso.com", "Get-Mailbox"])
        .fails_with(1, "You don't have permission to access this page or perform this action.");
    cli.run(&["exo", "--as", "alice@contoso.com", "New-Mailbox -Shared -Name Sneaky"])
        .fails_with(1, "You don't have permission to access this page or perform this action.");
    cli.run(&["exo", "Get-Mailbox Sneaky"]).fails_with(1, "couldn't be found");
    cli.run(&["exo", "--as", "nobody@contoso.com", "Get-Mailbox"])
        .fails_with(1, "The account 'nobody@contoso.com' couldn't be found");
    // An admin by role may.
    cli.run(&["exo", "--as", "admin@contoso.com", "New-Mailbox -Shared -Name Allowed"]).ok();
    cli.run(&["user", "roles", "bob", "--role", "exchange-admin"]).ok();
    cli.run(&["exo", "--as", "bob@contoso.com", "Get-Mailbox Allowed"]).ok();
}

#[test]
fn syntax_and_binding_errors_name_what_to_fix() {
    let cli = org();
    cli.run(&["exo", "Get-Mailboxes"])
        .fails_with(1, "The term 'Get-Mailboxes' is not recognized as a name of a cmdlet");
    cli.run(&["exo", "Get-Mailbox 'unterminated"]).fails_with(1, "The string is missing the terminator: '.");
    cli.run(&["exo", "Get-Mailbox | "]).fails_with(1, "An empty pipe element is not allowed.");
    cli.run(&["exo", "Get-Mailbox -Identity"]).fails_with(1, "Missing an argument for parameter 'Identity'.");
    cli.run(&["exo", "Get-Mailbox a b"])
        .fails_with(1, "A positional parameter cannot be found that accepts argument 'b'.");
    cli.run(&["exo", "Set-Mailbox x -Name $name"]).fails_with(1, "The variable '$name' isn't defined");
    cli.run(&["exo", "New-Mailbox -Shared -Name (Get-Date)"])
        .fails_with(1, "The term 'Get-Date' is not recognized");
    cli.run(&["exo", "New-Mailbox -Name X -Password (ConvertTo-SecureString 'Abc-defgh1')"])
        .fails_with(1, "Use -AsPlainText -Force");
}

#[test]
fn scripts_from_stdin_run_line_by_line_and_stop_at_the_first_error() {
    let cli = org();
    let script = "# set up sales\nNew-Mailbox -Shared -Name Sales\nNew-DistributionGroup -Name Team -Type Security\n\
                  Add-MailboxPermission Sales -User Team -AccessRights FullAccess\nGet-Mailbox Missing\nNew-Mailbox -Shared -Name Never\n";
    let run = cli.run_with_stdin(&["--json", "exo", "-"], script);
    let run = run.fails_with(
        1,
        "Get-Mailbox: The operation couldn't be performed because object 'Missing' couldn't be found.",
    );
    let shown = run.json_array();
    assert_eq!(shown.len(), 3, "what ran before the error is still reported");
    cli.run(&["exo", "Get-Mailbox Never"]).fails_with(1, "couldn't be found");
    assert_eq!(cli.exo_json("Get-MailboxPermission Sales").len(), 1);
}

#[test]
fn format_list_and_table_choose_properties() {
    let cli = org();
    cli.exo("New-Mailbox -Shared -Name Sales");
    let list = cli.exo("Get-Mailbox Sales | Format-List Name,*Quota").stdout;
    assert_eq!(
        list.trim(),
        "Name                     : Sales\nIssueWarningQuota        : 49 GB (52,613,349,376 bytes)\nProhibitSendQuota        : 49.5 GB (53,150,220,288 bytes)\nProhibitSendReceiveQuota : 50 GB (53,687,091,200 bytes)\nRecoverableItemsQuota    : 30 GB (32,212,254,720 bytes)"
    );
    let table = cli.exo("Get-Mailbox Sales | ft Name,Alias").stdout;
    assert_eq!(table.trim(), "Name  Alias\n----  -----\nSales Sales");
    let json = one(&cli, "Get-Mailbox Sales | fl Name,Alias");
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
    let everything = one(&cli, "Get-Mailbox Sales");
    assert!(everything.as_object().unwrap().len() > 15);
}

#[test]
fn pipelines_pass_objects_to_identity() {
    let cli = org();
    with_users(&cli);
    cli.exo("New-Mailbox -Shared -Name A; New-Mailbox -Shared -Name B");
    // Every mailbox from Get-Mailbox goes through Set-Mailbox once.
    cli.exo(
        "Get-Mailbox -RecipientTypeDetails SharedMailbox | Set-Mailbox -MessageCopyForSentAsEnabled $true",
    );
    for name in ["A", "B"] {
        assert_eq!(one(&cli, &format!("Get-Mailbox {name}"))["MessageCopyForSentAsEnabled"], true);
    }
    assert_eq!(one(&cli, "Get-Mailbox alice")["MessageCopyForSentAsEnabled"], false);
    cli.run(&["exo", "Get-Mailbox A | Get-Mailbox B"]).fails_with(1, "The input object cannot be bound");
    let perms = cli.exo_json("Get-Mailbox A | Add-MailboxPermission -User bob -AccessRights FullAccess");
    assert_eq!(perms[0]["Identity"], "A");
}
