"""Recover deleted items in headless Chromium: Alice (Full Access with
NoPurge) deletes a message of the shared info@ mailbox twice — to Deleted
Items, then from there — finds it under "Recover deleted items" with who
deleted it, and restores it; Bob (Full Access) deletes it again and deletes
it permanently, which Alice's page doesn't offer.

Arguments: BASE_URL SCREENSHOT_DIR. Prints one JSON object of what a person
saw; the Rust test asserts on it.
"""
base, shots = sys.argv[1:3]


def open_folder(folder):
    navigate(folder_link("Info", folder))


def open_message(subject):
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, subject))


def press(label):
    navigate(driver.find_element(By.XPATH, "//div[contains(@class,'message-actions')]//button[normalize-space()='%s']" % label))


def buttons():
    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, ".message-actions button")]


try:
    driver.set_window_size(1280, 800)
    at("/")
    sign_in("alice@contoso.com", "Alice-pass-123")
    open_folder("Inbox")
    open_message("Refund request")
    press("Delete")
    open_folder("Deleted Items")
    open_message("Refund request")
    press("Delete")
    seen["deleted_items_after"] = subjects()
    open_folder("Recover deleted items")
    seen["recover_heading"] = text("h1")
    seen["recover_note"] = text("#kept-note")
    seen["recover_rows"] = subjects()
    shot("recover-list-desktop")
    open_message("Refund request")
    seen["alice_note"] = text("#deleted-note")
    seen["alice_buttons"] = buttons()
    shot("recover-message-desktop")
    shot("recover-message-phone", 360, 740)
    driver.set_window_size(1280, 800)
    # The page offers her no purge; posting one anyway (her own form, its
    # CSRF token, another action) is refused by the server.
    here = driver.current_url
    driver.execute_script("window.__mailroomOldPage = true")
    driver.execute_script(
        "const f = document.querySelector(\"form[action$='/restore']\"); f.action = f.action.replace(/restore$/, 'purge'); f.submit();"
    )
    wait.until(lambda d: d.execute_script("return !window.__mailroomOldPage && document.readyState === 'complete'"))
    seen["alice_purge_heading"] = text("h1")
    seen["alice_purge_text"] = driver.find_element(By.TAG_NAME, "main").text
    at(here.replace(base, ""))
    press("Restore")
    seen["restored_heading"] = text("article.message h1")
    seen["restored_folder"] = text("nav.folders a[aria-current]")
    open_folder("Recover deleted items")
    seen["recover_rows_after_restore"] = subjects()

    driver.delete_all_cookies()
    at("/")
    sign_in("bob@contoso.com", "Bob-pass-123")
    open_folder("Deleted Items")
    open_message("Refund request")
    press("Delete")
    open_folder("Recover deleted items")
    open_message("Refund request")
    seen["bob_note"] = text("#deleted-note")
    seen["bob_buttons"] = buttons()
    press("Delete permanently")
    seen["recover_rows_after_purge"] = subjects()
    open_folder("Deleted Items")
    seen["deleted_items_after_purge"] = subjects()
finally:
    driver.quit()

print(json.dumps(seen))
