/* flask-twitsocket console: the Walls tab — create, edit and archive walls without a
 * restart (<prefix>/moderate/api/walls). No inline code (strict CSP); a wall's settings
 * are shown with textContent only. The server checks every field exactly as it checks
 * TWITSOCKET_WALLS and answers a mistake naming the wall and the field, shown here.
 */
(function () {
  "use strict";

  var section = document.querySelector("[data-walls-url]");
  var config = document.getElementById("moderate-config");
  if (!section || !config) { return; }
  var url = section.getAttribute("data-walls-url");
  var csrf = config.getAttribute("data-csrf");
  var form = section.querySelector("[data-wall-form]");
  var list = section.querySelector("[data-wall-list]");
  var save = section.querySelector("[data-wall-save]");
  var heading = section.querySelector("[data-wall-form-title]");
  var LISTS = ["track_keywords", "track_users", "mastodon_hashtags", "bluesky_accounts"];
  var TEXTS = ["title", "logo_url", "accent", "qr_url", "layout", "moderation"];
  var editing = null;   /* the slug being edited, or null for a new wall */
  var walls = [];

  var status = document.createElement("p");
  status.className = "hint";
  status.setAttribute("role", "status");
  status.setAttribute("data-wall-notice", "");
  form.appendChild(status);

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  function field(name) { return form.elements.namedItem(name); }

  function tracking(wall) {
    return LISTS.map(function (key) { return (wall[key] || []).join(", "); })
      .filter(Boolean).join(" · ") || (wall.catch_all ? "every post" : "nothing tracked");
  }

  function render() {
    list.textContent = "";
    walls.forEach(function (wall) {
      var li = el("li", "item" + (wall.archived ? " archived" : ""));
      li.setAttribute("data-wall-item", wall.slug);
      var head = li.appendChild(el("div", "who"));
      head.appendChild(el("strong", "name", wall.title || wall.slug)).dir = "auto";
      head.appendChild(el("span", "username", wall.slug));
      if (wall.archived) { head.appendChild(el("span", "tag", "archived")); }
      li.appendChild(el("p", "text", tracking(wall)));
      /* its own bans and blocked words (added with the wall chosen in the switcher) */
      if ((wall.banned_users || []).length) {
        li.appendChild(el("p", "hint", "Banned here: " + wall.banned_users.join(", "))).setAttribute("data-wall-bans", "");
      }
      if ((wall.blocked_words || []).length) {
        li.appendChild(el("p", "hint", "Blocked here: " + wall.blocked_words.join(", "))).setAttribute("data-wall-words", "");
      }
      if (!wall.archived) {
        var tools = li.appendChild(el("div", "actions"));
        var edit = tools.appendChild(el("button", "quiet", "Edit"));
        edit.type = "button";
        edit.setAttribute("data-wall-edit", wall.slug);
        if (wall.slug !== "main") {
          var archive = tools.appendChild(el("button", "danger", "Archive"));
          archive.type = "button";
          archive.setAttribute("data-wall-archive", wall.slug);
        }
      }
      list.appendChild(li);
    });
  }

  function load() {
    return fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && Array.isArray(data.walls)) { walls = data.walls; render(); }
      })
      .catch(function () { /* the next look at the tab tries again */ });
  }

  function send(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          say((answer && answer.error) || ("Refused (" + response.status + ")"), true);
          return false;
        }
        return true;
      });
    }).catch(function () { say("Could not reach the server; try again.", true); return false; });
  }

  /* back to "new wall"; the fields are cleared by the caller (form.reset) */
  function newMode() {
    editing = null;
    field("slug").readOnly = false;
    heading.textContent = "New wall";
    save.textContent = "Create";
  }

  function startEdit(slug) {
    var wall = walls.filter(function (w) { return w.slug === slug; })[0];
    if (!wall) { return; }
    editing = slug;
    field("slug").value = slug;
    field("slug").readOnly = true;
    LISTS.forEach(function (key) { field(key).value = (wall[key] || []).join(", "); });
    TEXTS.forEach(function (key) { field(key).value = wall[key] || ""; });
    heading.textContent = "Edit " + (wall.title || slug);
    save.textContent = "Save";
    say("");
    field("title").focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {};
    LISTS.forEach(function (key) { body[key] = field(key).value; });
    TEXTS.forEach(function (key) { body[key] = field(key).value.trim() || null; });
    var slug = field("slug").value.trim();
    var path = editing ? url + "/" + encodeURIComponent(editing) : url;
    if (!editing) { body.slug = slug; }
    save.disabled = true;
    send(path, body).then(function (ok) {
      save.disabled = false;
      if (!ok) { return; }
      say((editing ? "Saved " : "Created ") + slug + ".");
      if (!editing) { form.reset(); }
      load();
    });
  });

  form.addEventListener("reset", newMode);

  list.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button") : null;
    if (!target) { return; }
    if (target.hasAttribute("data-wall-edit")) { startEdit(target.getAttribute("data-wall-edit")); return; }
    var slug = target.getAttribute("data-wall-archive");
    if (!slug) { return; }
    if (!target.hasAttribute("data-confirm")) {   /* two clicks: no dialog, no accident */
      target.setAttribute("data-confirm", "");
      target.textContent = "Archive " + slug + "?";
      return;
    }
    target.disabled = true;
    send(url + "/" + encodeURIComponent(slug) + "/archive", {}).then(function (ok) {
      if (ok) { say("Archived " + slug + "."); if (editing === slug) { form.reset(); } }
      load();
    });
  });

  document.querySelectorAll("[data-tab=walls]").forEach(function (tab) {
    tab.addEventListener("click", load);
  });
  load();
})();
