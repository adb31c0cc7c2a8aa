"""What the browser tests share: headless Chromium from Debian's packages
driven by Selenium, and the few moves every test makes. A test script is
appended to this one; it sets `base` (the server's URL) and `shots` (where
screenshots go) before calling these, and fills `seen` with what a person
saw, printed as JSON at the end.
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

seen = {}

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 20)


def at(path):
    driver.get(base + path)


def find(css):
    return wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def text(css):
    return find(css).text


def navigate(element):
    """Clicks what leads to another page and waits until it has loaded: the
    old document carried a mark the new one doesn't. (Waiting on an old
    element to go stale trips over Chromium's inspector while the document
    is being replaced.)"""
    driver.execute_script("window.__mailroomOldPage = true")
    element.click()

    def loaded(d):
        try:
            return d.execute_script("return !window.__mailroomOldPage && document.readyState === 'complete'")
        except WebDriverException:
            return False  # between documents

    wait.until(loaded)


def shot(name, width=None, height=None):
    """A screenshot from the top of the page (at this size, if given), and
    how far the page would scroll sideways — it must not."""
    if width:
        driver.set_window_size(width, height)
    driver.execute_script("window.scrollTo(0, 0)")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    seen.setdefault("overflow", {})[name] = overflow
    os.makedirs(shots, exist_ok=True)
    driver.save_screenshot(os.path.join(shots, name + ".png"))


# --- the test ---
