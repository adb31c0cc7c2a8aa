"""Per-member read state in headless Chromium: Bob's view of the shared
info@ Inbox after Alice read a message there over IMAP — still unread for
him, in the list and in the folder pane's count.

Arguments: BASE_URL SCREENSHOT_DIR. Prints one JSON object of what Bob saw.
"""
base, shots = sys.argv[1:3]

try:
    driver.set_window_size(1280, 800)
    at("/")
    sign_in("bob@contoso.com", "Bob-pass-123")
    navigate(folder_link("Info", "Inbox"))
    seen["unread_rows"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#messages li.unread .subject')).map(e => e.innerText.trim())"
    )
    seen["inbox_link"] = folder_link("Info", "Inbox").text
    shot("seen-bob-list-desktop")
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, "Question 2"))
    navigate(folder_link("Info", "Inbox"))
    seen["unread_after_opening"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#messages li.unread .subject')).map(e => e.innerText.trim())"
    )
    shot("seen-bob-list-phone", 360, 740)
finally:
    driver.quit()

print(json.dumps(seen))
