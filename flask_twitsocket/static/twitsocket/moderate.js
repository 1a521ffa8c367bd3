/* flask-twitsocket moderation console.
 *
 * Vanilla JS, no build step, no inline code (the page runs under a strict CSP). Settings
 * come from #moderate-config data- attributes. Everything from a network is hostile: the
 * DOM is built with createElement/textContent only.
 *
 * The console is live: it opens the moderator websocket (<prefix>/moderate/ws), which
 * carries what walls get (tweet, delete, count, pin, unpin) plus moderator-only messages
 * (mod:queue, mod:log). New posts and newly held posts are added as they arrive; other
 * changes re-read the state (debounced), as does every (re)connect, so a console that was
 * away is never stale. Actions are POSTs with the session's CSRF token.
 */
(function () {
  "use strict";

  var config = document.getElementById("moderate-config");
  if (!config) { return; }
  var stateUrl = config.getAttribute("data-state-url");
  var actionUrl = config.getAttribute("data-action-url");
  var csrf = config.getAttribute("data-csrf");
  var wsPath = config.getAttribute("data-ws-url");
  var MAX_POSTS = 50;
  /* the media proxy's base ("" when off): a stored post's images come from the wall's host;
     a held post has no seq yet, so its images come from the network (https only) */
  var mediaBase = config.getAttribute("data-media-url") || "";

  var state = { posts: [], queue: [], rules: {}, pins: [], log: [], config: {}, mode: "" };

  function $(selector) { return document.querySelector(selector); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function button(label, action, target, className) {
    var b = el("button", className || null, label);
    b.type = "button";
    b.setAttribute("data-action", action);
    b.setAttribute("data-target", target);
    return b;
  }

  function keyOf(post) { return post.network + ":" + post.id; }

  function clock(iso) {
    if (!iso) { return ""; }
    var date = new Date(iso);
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  /* --- notices ----------------------------------------------------------------------- */
  var noticeTimer = null;
  function notice(text, isError) {
    var box = $("[data-notice]");
    box.textContent = text;
    box.hidden = false;
    box.classList.toggle("error", !!isError);
    window.clearTimeout(noticeTimer);
    noticeTimer = window.setTimeout(function () { box.hidden = true; }, isError ? 6000 : 2500);
  }

  /* --- rendering ----------------------------------------------------------------------- */
  function postCard(post, extra) {
    var author = post.author || {};
    var li = el("li", "item");  /* keyed by reconcile() */
    var head = el("div", "who");
    /* isolated: a bidi override in a name must not turn the handle around (the console
       shows names as sent, controls and all, so a moderator sees what was tried) */
    var name = head.appendChild(el("strong", "name", author.name || author.username || "?"));
    name.dir = "auto";
    head.appendChild(el("span", "username", "@" + (author.username || ""))).dir = "ltr";
    head.appendChild(el("span", "network", post.network));
    if (post.is_retweet) { head.appendChild(el("span", "tag", "repost of @" + (post.retweet_of_author || "?"))); }
    if (post.reposted_by) { head.appendChild(el("span", "tag", "reposted by @" + (post.reposted_by.username || "?"))); }
    if (isSensitive(post)) { head.appendChild(el("span", "tag sensitive-tag", post.revealed ? "sensitive, revealed" : "sensitive")); }
    li.appendChild(head);
    if (post.content_warning) { li.appendChild(el("p", "content-warning", "CW: " + post.content_warning)).dir = "auto"; }
    var text = el("p", "text", post.text || "");
    text.dir = "auto";
    li.appendChild(text);
    var media = mediaList(post);
    if (media) { li.appendChild(media); }
    var meta = el("div", "meta");
    meta.appendChild(el("time", null, clock(post.created_at)));
    if (extra) { meta.appendChild(extra); }
    li.appendChild(meta);
    return li;
  }

  function isSensitive(post) { return !!(post.sensitive || post.content_warning); }

  /* Moderators see every image unblurred (they decide), with its alt text or its lack. */
  function httpsUrl(url) {
    try { return typeof url === "string" && new URL(url).protocol === "https:" ? url : null; }
    catch (e) { return null; }
  }

  function mediaList(post) {
    var items = (post.media || []).map(function (item, i) { return [item, "m" + i]; })
      .concat(post.card && httpsUrl(post.card.image) ?
        [[{ type: "card", preview_url: post.card.image, alt: post.card.title || "" }, "c"]] : []);
    if (!items.length) { return null; }
    var box = el("div", "media");
    items.forEach(function (pair) {
      var item = pair[0];
      var src = httpsUrl(item.preview_url) &&
        (mediaBase && post.seq ? mediaBase + encodeURIComponent(post.seq) + "/" + pair[1] : httpsUrl(item.preview_url));
      if (!src) { return; }
      var figure = el("figure", "media-item");
      var img = el("img");
      img.src = src;
      img.alt = item.alt || "";
      img.loading = "lazy";
      img.referrerPolicy = "no-referrer";
      figure.appendChild(img);
      figure.appendChild(el("figcaption", item.alt ? "alt-text" : "alt-text missing",
                            (item.type === "photo" ? "" : item.type + " · ") + (item.alt || "no alt text")));
      box.appendChild(figure);
    });
    return box;
  }

  function actions(list) {
    var box = el("div", "actions");
    list.forEach(function (b) { if (b) { box.appendChild(b); } });
    return box;
  }

  function authorEntry(post) {
    return post.network + ":" + ((post.author || {}).username || (post.author || {}).id || "");
  }

  /* Lists are keyed: an item whose content did not change keeps its DOM node, so a button
   * under the moderator's thumb does not vanish when another post arrives or the state is
   * re-read. Changed items are rebuilt in place; order follows the state. */
  function reconcile(list, entries, emptyText) {
    var existing = Object.create(null);
    Array.prototype.forEach.call(list.children, function (node) {
      var key = node.getAttribute("data-key");
      if (key !== null) { existing[key] = node; }
    });
    var wanted = Object.create(null);
    var cursor = list.firstChild;
    entries.forEach(function (entry) {
      wanted[entry.key] = true;
      var node = existing[entry.key];
      if (!node || node.getAttribute("data-sig") !== entry.signature) {
        var fresh = entry.build();
        fresh.setAttribute("data-key", entry.key);
        fresh.setAttribute("data-sig", entry.signature);
        if (node) { list.replaceChild(fresh, node); }
        if (node === cursor) { cursor = fresh; }
        node = fresh;
      }
      if (node !== cursor) { list.insertBefore(node, cursor); } else { cursor = cursor.nextSibling; }
    });
    Array.prototype.slice.call(list.children).forEach(function (node) {
      var key = node.getAttribute("data-key");
      if (key === null ? entries.length > 0 : !wanted[key]) { list.removeChild(node); }
    });
    if (!entries.length && !list.querySelector(".empty")) { list.appendChild(el("li", "empty", emptyText)); }
  }

  /* what a card shows: a post re-read from the state equals the one pushed live */
  function shown(post) {
    var author = post.author || {};
    return [post.network, post.id, author.name, author.username, !!post.is_retweet,
            post.retweet_of_author, post.text, post.created_at, !!post.hidden,
            isSensitive(post), !!post.revealed, JSON.stringify(post.media || [])];
  }

  function renderPosts() {
    var pinned = Object.create(null);
    state.pins.forEach(function (key) { pinned[key] = true; });
    reconcile($("[data-posts]"), state.posts.map(function (post) {
      var key = keyOf(post);
      return {
        key: key,
        signature: JSON.stringify([shown(post), !!pinned[key]]),
        build: function () {
          var li = postCard(post, post.hidden ? el("span", "tag hidden-tag", "hidden") :
                            pinned[key] ? el("span", "tag pin-tag", "pinned") : null);
          li.classList.toggle("is-hidden", !!post.hidden);
          li.classList.toggle("is-pinned", !!pinned[key]);
          li.appendChild(actions(post.hidden ? [button("Unhide", "unhide", key)] : [
            button("Hide", "hide", key, "danger"),
            pinned[key] ? button("Unpin", "unpin", key) : button("Pin", "pin", key),
            isSensitive(post) ? post.revealed ? button("Blur again", "veil", key)
              : button("Reveal", "reveal", key) : null,
            button("Ban @" + ((post.author || {}).username || "?"), "ban", authorEntry(post), "quiet")
          ]));
          return li;
        }
      };
    }), "No posts yet.");
  }

  /* The automatic rules' filter and today's counts: one option per rule that is on or
     that holds something in the queue; "mode" is what the trust mode (delay/pre) held. */
  function renderRuleTools() {
    var select = $("[data-queue-filter]");
    var chosen = select.value;
    var counts = state.rule_counts || {};
    var names = (state.auto_rules || []).slice();
    state.queue.forEach(function (item) {
      var name = item.rule || "mode";
      if (names.indexOf(name) < 0) { names.push(name); }
    });
    Object.keys(counts).forEach(function (name) {
      if (names.indexOf(name) < 0) { names.push(name); }
    });
    while (select.options.length > 1) { select.remove(1); }
    names.forEach(function (name) {
      var option = el("option", null, name === "mode" ? "trust mode" : name);
      option.value = name;
      select.appendChild(option);
    });
    select.value = names.indexOf(chosen) >= 0 ? chosen : "";
    var list = $("[data-rule-counts]");
    list.textContent = "";
    names.forEach(function (name) {
      if (name === "mode") { return; }
      var li = el("li", "rule-count", name + ": " + String(counts[name] || 0) + " today");
      li.setAttribute("data-rule", name);
      list.appendChild(li);
    });
  }

  function renderQueue() {
    var waiting = 0;
    renderRuleTools();
    var filter = $("[data-queue-filter]").value;
    /* several walls: "All walls" shows every wall's queue together; a chosen wall, the
       posts that would go to it (an item not yet placed stays until the state says) */
    var wall = $("[data-wall-select]") ? $("[data-wall-select]").value : "";
    state.queue.forEach(function (item) { if (item.state !== "vetoed") { waiting += 1; } });
    reconcile($("[data-queue]"), state.queue.filter(function (item) {
      return (!filter || (item.rule || "mode") === filter)
        && (!wall || !Array.isArray(item.walls) || item.walls.indexOf(wall) >= 0);
    }).map(function (item) {
      var post = item.tweet;
      var key = keyOf(post);
      return {
        key: key,
        signature: JSON.stringify([item.state, item.release_at || null, item.reason || null,
                                   item.walls || null, shown(post)]),
        build: function () {
          var when = null;
          if (item.state === "vetoed") {
            when = el("span", "tag hidden-tag", "vetoed");
          } else if (item.release_at) {
            when = el("span", "tag countdown", "");
            when.setAttribute("data-release-at", item.release_at);
          } else if (item.reason) {
            when = el("span", "tag reason", item.reason);
            when.setAttribute("data-reason", item.rule || "");
          }
          var li = postCard(post, when);
          li.classList.add(item.state === "vetoed" ? "is-vetoed" : "is-waiting");
          if (Array.isArray(item.walls)) {
            var walls = li.appendChild(el("p", "walls", item.walls.length
              ? "for " + item.walls.join(", ") : "for no wall"));
            walls.setAttribute("data-walls", item.walls.join(" "));
          }
          li.appendChild(actions(item.state === "vetoed" ? [button("Approve after all", "approve", key)] : [
            button(item.rule ? "Release" : "Approve", "approve", key, "go"),
            button("Veto", "veto", key, "danger"),
            button("Ban @" + ((post.author || {}).username || "?"), "ban", authorEntry(post), "quiet")
          ]));
          return li;
        }
      };
    }), "Nothing waiting.");
    $("[data-queue-count]").textContent = String(waiting);
    var hint = {
      pre: "Pre-moderation: nothing goes up until approved (trusted authors skip the queue).",
      delay: "Delay mode: posts go up when their countdown ends unless vetoed.",
      post: "Posts go up at once; hide them below.",
      off: "Moderation is off."
    }[state.mode] || "";
    $("[data-queue-hint]").textContent = hint;
    tick();
  }

  function renderRules() {
    var removers = { ban: "unban", word: "unblock", trust: "untrust" };
    Object.keys(removers).forEach(function (kind) {
      var list = $('[data-rules="' + kind + '"]');
      list.textContent = "";
      (state.rules[kind] || []).forEach(function (value) {
        var li = el("li", "chip");
        li.appendChild(el("span", null, value));
        var b = button("×", removers[kind], value, "remove");
        b.setAttribute("aria-label", "Remove " + value);
        li.appendChild(b);
        list.appendChild(li);
      });
    });
    var fixed = [];
    if ((state.config.banned || []).length) { fixed.push("Banned in the configuration: " + state.config.banned.join(", ")); }
    if ((state.config.trusted || []).length) { fixed.push("Trusted in the configuration: " + state.config.trusted.join(", ")); }
    $("[data-config-rules]").textContent = fixed.join(" · ");
  }

  function renderLog() {
    var list = $("[data-log]");
    list.textContent = "";
    state.log.forEach(function (entry) {
      var li = el("li", entry.undone_at ? "undone" : null);
      li.appendChild(el("time", null, clock(entry.created_at)));
      li.appendChild(el("span", "who", entry.moderator));
      li.appendChild(el("strong", "what", entry.action));
      li.appendChild(el("span", "target", entry.target));
      if (entry.wall) { li.appendChild(el("span", "wall", entry.wall)); }
      /* a wall created, edited or archived is changed again in the Walls tab, not undone */
      if (!entry.undone_at && !/-wall$/.test(entry.action)) {
        li.appendChild(button("Undo", "undo", entry.id, "quiet"));
      }
      list.appendChild(li);
    });
    if (!state.log.length) { list.appendChild(el("li", "empty", "No actions yet.")); }
  }

  function setCount(count) {
    if (typeof count === "number") { $("[data-count]").textContent = String(count); }
  }

  /* several walls: hide/unhide, pins, approvals, bans and blocked words name the chosen
     wall (its own) */
  var WALL_ACTIONS = { hide: true, unhide: true, pin: true, unpin: true, approve: true, veto: true,
                       ban: true, unban: true, block: true, unblock: true };
  function renderWalls() {
    var select = $("[data-wall-select]");
    var walls = Array.isArray(state.walls) ? state.walls : [];
    if (!select) { return; }
    var listed = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
    if (listed.join(" ") === walls.map(function (w) { return String(w.slug); }).join(" ")) { return; }
    var chosen = select.value;
    while (select.options.length > 1) { select.remove(1); }
    walls.forEach(function (wall) {
      var option = el("option", null, String(wall.title || wall.slug));
      option.value = String(wall.slug);
      select.appendChild(option);
    });
    select.value = listed.indexOf(chosen) >= 0 || walls.some(function (w) { return w.slug === chosen; }) ? chosen : "";
    $("[data-wall-switcher]").hidden = !walls.length;
  }

  function chosenWall(action, target) {
    var select = $("[data-wall-select]");
    if (action === "unpin") { return (state.pinned_on || {})[target] || null; }  /* where it is pinned */
    return select && select.value && WALL_ACTIONS[action] ? select.value : null;
  }

  function render() {
    renderWalls();
    $("[data-mode-label]").textContent = state.mode;
    document.body.setAttribute("data-mode", state.mode);
    renderQueue();
    renderPosts();
    renderRules();
    renderLog();
    setCount(state.count);
  }

  /* delay mode: each held post's countdown */
  function tick() {
    document.querySelectorAll("[data-release-at]").forEach(function (node) {
      var left = Math.ceil((Date.parse(node.getAttribute("data-release-at")) - Date.now()) / 1000);
      node.textContent = left > 0 ? "up in " + left + " s" : "going up…";
    });
  }
  window.setInterval(tick, 1000);

  /* --- state and live messages ------------------------------------------------------- */
  var refreshTimer = null;
  function refresh() {
    return fetch(stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) { if (data) { state = data; render(); } })
      .catch(function () { /* the next message or reconnect refreshes */ });
  }

  function refreshSoon() {
    if (refreshTimer !== null) { return; }
    refreshTimer = window.setTimeout(function () { refreshTimer = null; refresh(); }, 150);
  }

  function handle(message) {
    if (!message || typeof message.type !== "string") { return; }
    if (message.type === "count") { setCount(message.count); return; }
    if (message.type === "tweet" && message.tweet) {
      var key = keyOf(message.tweet);
      state.posts = [message.tweet].concat(state.posts.filter(function (p) { return keyOf(p) !== key; }))
        .slice(0, MAX_POSTS);
      renderPosts();
      return;
    }
    if (message.type === "mod:counts" && message.counts) {
      state.rule_counts = message.counts;   /* consent's drops: nothing else to count */
      renderRuleTools();
      return;
    }
    if (message.type === "mod:queue" && message.event === "held" && message.item) {
      if (message.item.rule) {
        state.rule_counts = state.rule_counts || {};
        state.rule_counts[message.item.rule] = (state.rule_counts[message.item.rule] || 0) + 1;
      }
      state.queue = [message.item].concat(state.queue.filter(function (item) {
        return item.pending_id !== message.item.pending_id;
      }));
      renderQueue();
      if ((state.walls || []).length) { refreshSoon(); }  /* learn its walls */
      return;
    }
    refreshSoon();   /* delete, pin, unpin, released, vetoed, log: re-read the state */
  }

  /* --- the moderator websocket, reconnecting with back-off ---------------------------- */
  var attempts = 0;
  function setStatus(name, label) {
    var node = $("[data-status]");
    node.setAttribute("data-state", name);
    node.textContent = label;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try { socket = new WebSocket(scheme + window.location.host + wsPath); } catch (e) { retry(); return; }
    socket.addEventListener("open", function () {
      attempts = 0;
      setStatus("live", "live");
      refresh();
    });
    socket.addEventListener("message", function (event) {
      var message = null;
      try { message = JSON.parse(event.data); } catch (e) { message = null; }
      handle(message);
    });
    socket.addEventListener("close", retry);
  }

  function retry() {
    attempts += 1;
    setStatus("reconnecting", "reconnecting…");
    var delay = Math.min(15000, 500 * Math.pow(2, Math.min(attempts, 5)));
    window.setTimeout(function () {
      /* the login may have expired: the state request reloads to the login form */
      refresh().then(connect);
    }, delay / 2 + Math.random() * delay / 2);
  }

  /* --- actions ------------------------------------------------------------------------- */
  function act(action, target, control) {
    if (control) { control.disabled = true; }
    return fetch(actionUrl.replace("ACTION", encodeURIComponent(action)), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(chosenWall(action, target) ? { target: target, wall: chosenWall(action, target) }
                                                      : { target: target })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          notice((body && body.error) || ("Refused (" + response.status + ")"), true);
          return false;
        }
        notice(action + " " + target + " done");
        refreshSoon();
        return true;
      });
    }).catch(function () {
      notice("Could not reach the server; try again.", true);
      return false;
    }).then(function (ok) {
      if (control) { control.disabled = false; }
      return ok;
    });
  }

  $("[data-queue-filter]").addEventListener("change", renderQueue);
  if ($("[data-wall-select]")) { $("[data-wall-select]").addEventListener("change", renderQueue); }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button[data-action]") : null;
    if (!target) { return; }
    act(target.getAttribute("data-action"), target.getAttribute("data-target"), target);
  });

  document.querySelectorAll("form[data-rule]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector("input[name=target]");
      var value = input.value.trim();
      if (!value) { return; }
      act(form.getAttribute("data-rule"), value, form.querySelector("button")).then(function (ok) {
        if (ok) { input.value = ""; }
      });
    });
  });

  setStatus("connecting", "connecting…");
  refresh();
  connect();
})();
