"""The activity trail in headless Chromium: Bob opens a message of the
shared info@ mailbox that Alice read, flagged and answered over IMAP; the
page ends with what the team did with it. He replies from the web app, and
the message's trail says so; the mailbox's feed ("Activity" in the folder
pane) lists everything, newest first.

Arguments: BASE_URL SCREENSHOT_DIR. Prints one JSON object of what a person
saw; the Rust test asserts on it.
"""
base, shots = sys.argv[1:3]


def trail(css):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim())", css
    )


try:
    driver.set_window_size(1280, 800)
    at("/")
    sign_in("bob@contoso.com", "Bob-pass-123")
    navigate(folder_link("Info", "Done"))
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, "Invoice 42"))
    seen["trail_heading"] = text("#trail-heading")
    seen["trail_before"] = trail("#trail li")
    shot("trail-message-desktop")
    navigate(driver.find_element(By.LINK_TEXT, "Reply"))
    find("#body").send_keys("Paid on Friday.")
    navigate(find("button[name=action][value=send]"))
    seen["reply_notice"] = text("p.notice")
    navigate(folder_link("Info", "Done"))
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, "Invoice 42"))
    seen["trail_after"] = trail("#trail li")
    shot("trail-message-phone", 360, 740)
    driver.set_window_size(1280, 800)
    navigate(folder_link("Info", "Activity"))
    seen["feed_heading"] = text("h1")
    seen["feed"] = trail("#feed li")
    shot("trail-feed-desktop")
    shot("trail-feed-phone", 360, 740)
    # His own mailbox records too (Alice's note arrived there) but has no
    # team: no trail under its messages, and no feed.
    driver.set_window_size(1280, 800)
    navigate(folder_link("My mailbox", "Inbox"))
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, "Re: Invoice 42"))
    seen["own_trail"] = trail("#trail li")
    seen["own_feed_link"] = folder_link("My mailbox", "Activity") is not None
finally:
    driver.quit()
print(json.dumps(seen))
