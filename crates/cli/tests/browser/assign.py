"""Assignment in headless Chromium: Bob finds what Alice assigned him over
IMAP under "Assigned to me" in the folder pane, assigns another message to
Alice and marks his own handled; the list's views show each. A forged
assignment to someone who isn't a member is refused.

Arguments: BASE_URL SCREENSHOT_DIR. Prints one JSON object of what a person
saw; the Rust test asserts on it.
"""
base, shots = sys.argv[1:3]


def open_message(subject):
    navigate(driver.find_element(By.PARTIAL_LINK_TEXT, subject))


def view(name):
    """The shared Inbox in one of the list's views."""
    at("/mail/")
    navigate(folder_link("Info", "Inbox"))
    driver.find_element(By.CSS_SELECTOR, "#filter option[value='%s']" % name).click()
    navigate(find("form.search button[type=submit]"))
    return subjects()


def assign_to(name):
    driver.find_element(By.XPATH, "//select[@id='assign-to']/option[normalize-space()='%s']" % name).click()
    navigate(find("form[action$='/assign'] button[type=submit]"))


try:
    driver.set_window_size(1280, 800)
    at("/")
    sign_in("bob@contoso.com", "Bob-pass-123")
    seen["assigned_link"] = folder_link("Info", "Assigned to me").text
    navigate(folder_link("Info", "Assigned to me"))
    seen["mine"] = subjects()
    shot("assign-mine-desktop")
    open_message("Order 1")
    seen["order1_status"] = text("#assignment-status")
    seen["members"] = [o.text for o in driver.find_elements(By.CSS_SELECTOR, "#assign-to option")]
    navigate(find("form[action$='/handled'] button[type=submit]"))
    seen["order1_after"] = text("#assignment-status")
    shot("assign-message-phone", 360, 740)
    driver.set_window_size(1280, 800)
    navigate(folder_link("Info", "Inbox"))
    open_message("Order 2")
    assign_to("Alice Jones")
    seen["order2_status"] = text("#assignment-status")
    # A forged choice: someone who isn't a member of the mailbox.
    driver.execute_script("document.querySelector('#assign-to').selectedOptions[0].value = arguments[0]", sys.argv[3])
    navigate(find("form[action$='/assign'] button[type=submit]"))
    seen["forged_heading"] = text("h1")
    seen["forged_text"] = driver.find_element(By.TAG_NAME, "main").text
    seen["view_mine"] = view("mine")
    seen["view_unassigned"] = view("unassigned")
    seen["view_handled"] = view("handled")
    navigate(folder_link("Info", "Inbox"))
    seen["inbox_rows"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#messages .subject')).map(e => e.innerText.trim())"
    )
    shot("assign-list-desktop")
    shot("assign-list-phone", 360, 740)
finally:
    driver.quit()

print(json.dumps(seen))
