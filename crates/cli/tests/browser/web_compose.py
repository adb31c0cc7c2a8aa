"""Writing mail in the web app, in headless Chromium: Alice forwards a
message of the shared info@ Inbox with its attachment and a file of her
own; a send refused for a mistyped address keeps the file she chose (in a
draft) and goes once the address is mended; a draft with a file is saved,
opened again and sent; Dave replies to info@'s customer "on behalf of"
info@.

Arguments: BASE_URL SCREENSHOT_DIR FILE_DIR. Prints one JSON object of what
a person saw; the Rust test asserts on it and on the outbound queue.
"""
base, shots, files = sys.argv[1:4]


def attach(name, content):
    """Chooses a file in the file input, as a person picking it would."""
    path = os.path.join(files, name)
    with open(path, "w") as f:
        f.write(content)
    find("#attachment").send_keys(path)


def kept():
    """The attachments the form offers to keep: (name, ticked)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#attachments label.check')).map(l => [l.innerText.trim(), l.querySelector('input').checked])"
    )


try:
    driver.set_window_size(1280, 800)
    at("/")
    sign_in("alice@contoso.com", "Alice-pass-123")

    # Forward the invoice from the team's Inbox: its PDF comes along.
    navigate(folder_link("Info", "Inbox"))
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, "Invoice 77"))
    seen["invoice_attachments"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "ul.attachments a")]
    navigate(driver.find_element(By.LINK_TEXT, "Forward"))
    seen["forward_kept"] = kept()
    seen["forward_limit"] = text("#attachment-limit")
    find("#to").send_keys("partner@fabrikam.com")
    attach("notes.txt", "Notes for the partner.\n")
    shot("compose-attachments-desktop")
    driver.set_window_size(360, 740)
    shot("compose-attachments-phone")
    driver.set_window_size(1280, 800)
    navigate(find("button[name=action][value=send]"))
    seen["forward_notice"] = text("p.notice")

    # A mistyped address: refused at its field, the chosen file kept.
    at("/mail/compose")
    find("#to").send_keys("bob at fabrikam")
    find("#subject").send_keys("Plan")
    attach("plan.csv", "week,task\n1,launch\n")
    navigate(find("button[name=action][value=send]"))
    seen["mistyped_error"] = text("#to-error")
    seen["mistyped_kept"] = kept()
    seen["mistyped_to_kept"] = find("#to").get_attribute("value")
    shot("compose-refused-desktop")
    to = find("#to")
    to.clear()
    to.send_keys("bob@fabrikam.com")
    navigate(find("button[name=action][value=send]"))
    seen["mended_notice"] = text("p.notice")

    # A draft with a file: saved, opened again from Drafts, sent.
    at("/mail/compose")
    find("#to").send_keys("x@fabrikam.com")
    find("#subject").send_keys("Draft with file")
    find("#body").send_keys("Finish me later.")
    attach("draft.txt", "drafted\n")
    navigate(find("button[name=action][value=draft]"))
    seen["draft_notice"] = text("p.notice")
    seen["drafts_rows"] = subjects()
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, "Draft with file"))
    navigate(driver.find_element(By.LINK_TEXT, "Edit draft"))
    seen["draft_heading"] = text("h1")
    seen["draft_to"] = find("#to").get_attribute("value")
    seen["draft_body"] = find("#body").get_attribute("value")
    seen["draft_kept"] = kept()
    navigate(find("button[name=action][value=send]"))
    seen["draft_sent_notice"] = text("p.notice")
    navigate(folder_link("My mailbox", "Drafts"))
    seen["drafts_after_send"] = subjects()

    # Dave may send on behalf of info@: his reply says so.
    navigate(find("form.signout button"))
    driver.delete_all_cookies()
    at("/")
    sign_in("dave@contoso.com", "Dave-pass-123")
    navigate(folder_link("Info", "Inbox"))
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, "Invoice 77"))
    navigate(driver.find_element(By.LINK_TEXT, "Reply"))
    chooser = find("#from")
    seen["dave_from_default"] = driver.execute_script("return arguments[0].selectedOptions[0].text", chooser)
    find("#body").send_keys("Paid today.")
    navigate(find("button[name=action][value=send]"))
    seen["dave_notice"] = text("p.notice")
finally:
    driver.quit()

print(json.dumps(seen))
