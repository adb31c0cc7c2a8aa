// Mailroom admin center: small enhancements over pages that work without
// JavaScript. No framework, no build step; loaded with `defer` and allowed
// by the page's Content-Security-Policy (script-src 'self').
(function () {
  "use strict";

  // "Add a shared mailbox": show the likely address as the name is typed.
  // It is only a hint (the placeholder): left empty, the server makes the
  // real suggestion by core's rule, numbered if the address is taken.
  document.querySelectorAll("form[data-suggest-address]").forEach(function (form) {
    var name = form.querySelector("#name");
    var local = form.querySelector("#local");
    if (!name || !local) return;
    name.addEventListener("input", function () {
      local.placeholder = name.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
        .replace(/[^A-Za-z0-9._-]+/g, "");
    });
  });

  // Confirm before destructive forms.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // People picker: ask the server as one types (the page holds only the
  // first 200 people, enough for small organisations).
  var list = document.getElementById("people");
  document.querySelectorAll("input[list=people]").forEach(function (input) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2 || !list) return;
      timer = setTimeout(function () {
        fetch("/admin/people?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (people) {
            list.textContent = "";
            people.forEach(function (p) {
              var option = document.createElement("option");
              option.value = p.address;
              option.textContent = p.name;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });

  // A message list follows the mailbox: ask the server for changes (it
  // waits until there is one), then fetch this page again and swap in the
  // list, its count, its pager and the folder pane — never the search box
  // or whatever has focus. A hidden tab stops asking until it is shown.
  var live = document.querySelector("[data-changes]");
  if (live && window.fetch && window.DOMParser) {
    var after = live.getAttribute("data-after");
    var url = live.getAttribute("data-changes");
    var failures = 0;
    var swapped = ["#messages", "p.count", "nav.pager", "nav.folders"];
    var ask = function () {
      if (document.hidden) {
        document.addEventListener("visibilitychange", function again() {
          if (document.hidden) return;
          document.removeEventListener("visibilitychange", again);
          ask();
        });
        return;
      }
      fetch(url + "?after=" + encodeURIComponent(after), { credentials: "same-origin" })
        .then(function (r) {
          // Gone (access taken away) or signed out: the page says so.
          if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("json") < 0) {
            window.location.reload();
            throw new Error("reloading");
          }
          return r.json();
        })
        .then(function (answer) {
          failures = 0;
          after = answer.after;
          if (!answer.changed) return null;
          return fetch(window.location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); });
        })
        .then(function (html) {
          if (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html");
            swapped.forEach(function (selector) {
              var now = document.querySelector(selector), next = fresh.querySelector(selector);
              if (now && next) now.innerHTML = next.innerHTML;
            });
          }
          ask();
        })
        .catch(function (err) {
          if (err && err.message === "reloading") return;
          failures += 1;
          if (failures < 20) setTimeout(ask, Math.min(30000, 1000 * failures));
        });
    };
    ask();
  }

  // Filter the rows of a list page as one types (the search button still
  // asks the server, for rows on other pages).
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.querySelector(input.getAttribute("data-filter"));
    if (!table) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (row) {
        row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
  // The calendar shows times in the browser's time zone: the server reads
  // it from a cookie. A calendar view drawn in another zone (the first
  // visit, a journey) is drawn again once, in this one (a GET: reloading
  // it posts nothing). Without script, UTC.
  var zoned = document.getElementById("zone");
  var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) {
    document.cookie = "mailroom_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    try {
      if (zoned && zoned.getAttribute("data-zone") !== zone && !sessionStorage.getItem("mailroom_tz_" + zone)) {
        sessionStorage.setItem("mailroom_tz_" + zone, "1");
        location.reload();
      }
    } catch (e) { /* no storage: stay in the zone shown */ }
  }

  // The collision guard: an open reply or forward tells the server, every
  // two seconds, that it is being written; a message's page asks every
  // second who is writing a reply to it and says so.
  var writing = document.querySelector("form[data-replying]");
  if (writing) {
    var token = writing.querySelector("input[name=csrf]").value;
    var beat = function () {
      fetch(writing.getAttribute("data-replying"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "csrf=" + encodeURIComponent(token)
      }).catch(function () {});
    };
    beat();
    setInterval(beat, 2000);
  }
  var replying = document.querySelector("[data-presence]");
  if (replying) {
    var look = function () {
      fetch(replying.getAttribute("data-presence"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { replying: [] }; })
        .then(function (answer) {
          var names = answer.replying || [];
          replying.textContent = names.length ? names.join(", ") + (names.length === 1 ? " is replying" : " are replying") : "";
          replying.hidden = names.length === 0;
        })
        .catch(function () {});
    };
    look();
    setInterval(look, 1000);
  }
})();
