"""What the web app's browser tests share, appended after chromium.py:
signing in, the message list's subjects, the folder pane's links.
"""


def subjects():
    """The subjects in the message list, read in one go (the list may be swapped under us)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#messages .subject')).map(e => e.innerText.trim())"
    )


def sign_in(login, password):
    find("#login").send_keys(login)
    find("#password").send_keys(password)
    navigate(find("form[action='/admin/sign-in'] button[type=submit]"))


def folder_link(mailbox_label, folder):
    """The folder pane's link to `folder` under the mailbox labelled `mailbox_label`."""
    return driver.execute_script(
        """
        const [label, folder] = arguments;
        let current = null;
        for (const node of document.querySelectorAll('nav.folders > *')) {
          if (node.matches('p.group')) current = node.textContent.trim();
          else if (current === label)
            for (const a of node.querySelectorAll('a'))
              if (a.firstChild.textContent.trim() === folder) return a;
        }
        return null;
        """,
        mailbox_label,
        folder,
    )


