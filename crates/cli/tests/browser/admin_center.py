"""The admin center in headless Chromium, as an admin follows the seeds:
add a shared mailbox, add two members, turn on the Sent items copy, set
forwarding and an automatic reply, set quotas (and see a refused one
explained next to its field), convert a user; then a non-admin sees the
permission message, and a form posted without its CSRF token is refused.

Arguments: BASE_URL ADMIN PASSWORD USER USER_PASSWORD SCREENSHOT_DIR.
Prints one JSON object of what a person saw; the Rust test asserts on it
and on the server's state.
"""
base, admin, password, user, user_password, shots = sys.argv[1:7]


def open_section(section):
    """Opens a <details> section the way a person does: its summary."""
    details = find("details#" + section)
    if details.get_attribute("open") is None:
        details.find_element(By.CSS_SELECTOR, "summary").click()
    return details


def unlabelled_inputs():
    """Inputs a screen reader couldn't name: no <label for>, no wrapping label, no aria-label."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
          .map(e => e.name || e.id);
    """)


submit = navigate
click_link = navigate


def sign_in(login, secret):
    at("/admin/")
    find("#login").send_keys(login)
    find("#password").send_keys(secret)
    submit(find("form[action='/admin/sign-in'] button[type=submit]"))


try:
    driver.set_window_size(1280, 900)
    at("/admin/shared-mailboxes")
    seen["sign_in_heading"] = text("h1")
    shot("sign-in-desktop", 1280, 900)
    driver.set_window_size(1280, 900)

    # An unknown account and a wrong password read the same.
    find("#login").send_keys("nobody@contoso.com")
    find("#password").send_keys("not-the-password")
    submit(find("form[action='/admin/sign-in'] button[type=submit]"))
    seen["unknown_account"] = text("#sign-in-error")
    find("#login").clear()
    find("#login").send_keys(admin)
    find("#password").send_keys("not-the-password")
    submit(find("form[action='/admin/sign-in'] button[type=submit]"))
    seen["wrong_password"] = text("#sign-in-error")
    find("#password").send_keys(password)
    submit(find("form[action='/admin/sign-in'] button[type=submit]"))

    # Teams & groups > Shared mailboxes > Add a shared mailbox.
    click_link(find("nav.side").find_element(By.LINK_TEXT, "Shared mailboxes"))
    seen["list_heading"] = text("h1")
    submit(find("a.button.primary"))
    seen["add_heading"] = text("h1")
    find("#name").send_keys("Support Desk")
    # The script shows the likely address from the name; the admin types their own.
    seen["suggested_local"] = find("#local").get_attribute("placeholder")
    find("#local").clear()
    find("#local").send_keys("support")
    seen["unlabelled_on_add"] = unlabelled_inputs()
    submit(find("form[data-suggest-address] button[type=submit]"))

    # "Add members to this mailbox".
    seen["detail_heading"] = text("h1")
    seen["after_create_notice"] = text("details#members p.notice")
    for member in ("alice@contoso.com", "bob@contoso.com"):
        open_section("members")
        find("#member").send_keys(member)
        submit(find("details#members form.stack button[type=submit]"))
        find("p.notice")
    seen["members"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "details#members ul.people li span")]

    # Sent items > Edit: copy both ways.
    section = open_section("sent-items")
    for name in ("send_as", "send_on_behalf"):
        box = section.find_element(By.CSS_SELECTOR, "input[name=%s]" % name)
        if not box.is_selected():
            box.click()
    submit(section.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    seen["sent_items_summary"] = text("details#sent-items summary .value")

    # Email forwarding > Edit.
    section = open_section("forwarding")
    field = section.find_element(By.ID, "forward_to")
    field.clear()
    field.send_keys("archive@fabrikam.com")
    submit(section.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    seen["forwarding_summary"] = text("details#forwarding summary .value")

    # Automatic replies > Edit: on, with an inside text.
    section = open_section("auto-reply")
    section.find_element(By.CSS_SELECTOR, "input[name=state][value=Enabled]").click()
    section.find_element(By.ID, "internal").send_keys("Thanks, the support desk will answer within a day.")
    submit(section.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    seen["auto_reply_summary"] = text("details#auto-reply summary .value")

    # Storage quota: a refused order first, explained next to its field,
    # with what was typed kept; then a good one.
    def set_quota(warn, send, full):
        section = open_section("quota")
        for name, value in (("issue_warning", warn), ("prohibit_send", send), ("prohibit_send_receive", full)):
            f = section.find_element(By.ID, name)
            f.clear()
            f.send_keys(value)
        submit(section.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    set_quota("5GB", "1GB", "3GB")
    seen["quota_error"] = text("#issue_warning-error")
    seen["quota_error_described"] = find("#issue_warning").get_attribute("aria-describedby")
    seen["quota_kept"] = find("#prohibit_send").get_attribute("value")
    set_quota("1GB", "2GB", "3GB")
    seen["quota_summary"] = text("details#quota .meter span")
    seen["unlabelled_on_detail"] = unlabelled_inputs()
    open_section("members")
    shot("shared-mailbox-desktop", 1280, 1000)
    shot("shared-mailbox-phone", 360, 780)
    driver.set_window_size(1280, 900)

    # The list finds it.
    at("/admin/shared-mailboxes?q=support")
    seen["search_rows"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#results tbody tr td:first-child")]
    shot("shared-mailboxes-desktop", 1280, 900)
    shot("shared-mailboxes-phone", 360, 780)
    driver.set_window_size(1280, 900)

    # Convert a user to a shared mailbox.
    at("/admin/users?q=carol")
    click_link(find("#results tbody a"))
    open_section("convert")
    submit(find("details#convert button[type=submit]"))
    seen["converted_kind"] = text(".pane-head .address")

    # A domain's DNS records, each checked against DNS as the page is made.
    at("/admin/domains")
    click_link(find("a[href='/admin/domains/contoso.com']"))
    seen["records_heading"] = text("h1")
    seen["records_alert"] = text("p.error")
    seen["records_status"] = driver.execute_script("""
        const out = {};
        for (const row of document.querySelectorAll('table.records tbody tr:not(.group)')) {
            const cells = row.querySelectorAll('td');
            out[cells[1].innerText.trim() + ' ' + cells[2].innerText.trim()] = cells[0].innerText.trim();
        }
        return out;
    """)
    shot("domain-records-desktop", 1280, 900)
    shot("domain-records-phone", 360, 780)
    seen["records_phone_overflow"] = driver.execute_script(
        "return document.documentElement.scrollWidth > window.innerWidth")
    driver.set_window_size(1280, 900)

    # A form without its CSRF token is refused.
    at("/admin/domains")
    driver.execute_script("document.querySelector(\"form[action='/admin/domains'] input[name=csrf]\").remove()")
    find("#domain").send_keys("forged.example")
    submit(find("form[action='/admin/domains'] button[type=submit]"))
    seen["csrf_heading"] = text("h1")
    seen["csrf_message"] = text("p.error")

    # Sign out; a person without an admin role sees the permission message.
    at("/admin/shared-mailboxes")
    submit(find("form.signout button"))
    seen["after_sign_out"] = text("h1")
    sign_in(user, user_password)
    seen["non_admin_heading"] = text("h1")
    seen["non_admin_message"] = text("p.error")
    at("/setup")
    seen["setup_heading"] = text("h1")
finally:
    driver.quit()

print(json.dumps(seen))
