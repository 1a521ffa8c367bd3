/* flask-twitsocket wall client.
 *
 * Vanilla JS, no build step. Reads its settings and its translated messages from
 * #twitsocket-config data- attributes (no inline script, so pages work under a strict CSP).
 * A post's DOM comes from post-view.js (window.twitsocketView), loaded just before this file.
 *
 * A wall runs for hours on venue Wi-Fi, so the connection never gives up: it reconnects
 * with exponential back-off and jitter, and every time it (re)connects it asks the JSON API
 * for the posts stored since the newest one it has, so nothing published during a gap is
 * missed. Posts are keyed by their `seq`: each is shown once, in order, however many paths
 * (catch-up, live feed, a resumed event stream) deliver it. When the websocket cannot open
 * at all (some proxies block it) the client falls back to server-sent events, which carry
 * the same messages; TWITSOCKET_FALLBACK (data-fallback) forces or forbids that.
 */
(function () {
  "use strict";

  var config = document.getElementById("twitsocket-config");
  if (!config) { return; }

  var view = window.twitsocketView;
  if (!view) { return; }

  var wsUrl = absoluteWsUrl(config.getAttribute("data-ws-url"));
  var apiUrl = config.getAttribute("data-api-url");
  var eventsUrl = config.getAttribute("data-events-url");
  var fallback = config.getAttribute("data-fallback") || "auto";
  var STORAGE_KEY = "twitsocket.hideRetweets";
  var OPEN_TIMEOUT = 10000;      /* a proxy may swallow the upgrade instead of refusing it */
  var FAILURES_BEFORE_FALLBACK = 2;
  var ATTEMPTS_BEFORE_OFFLINE = 5;
  var MAX_DELAY = 30000;

  function absoluteWsUrl(url) {
    if (!url) { return null; }
    if (/^wss?:\/\//.test(url)) { return url; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + url;
  }

  var t = view.t, el = view.el, renderPost = view.renderPost, refreshTimes = view.refreshTimes;

  /* --- the wall ------------------------------------------------------------------- */
  /* Every feed box on the page; the projector's (data-twitsocket-paced) is placed by its
     pacer, which subscribes to the same messages, so it is left out of `containers`. */
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-twitsocket-tweets]"));
  var containers = boxes.filter(function (box) { return !box.hasAttribute("data-twitsocket-paced"); });
  var counters = document.querySelectorAll("[data-twitsocket-count]");
  var subscribers = [];
  var newestSeq = 0;
  /* Every post is shown once, ever. A wall runs for days: the set only keeps the seqs near
     the newest (catch-up asks for newer ones only), and anything older than `seenFloor`
     counts as seen, so memory stays bounded however many posts arrive. */
  var SEEN_KEEP = 2000;
  var seen = new Set();
  var seenFloor = 0;
  function wasSeen(seq) { return seq <= seenFloor || seen.has(seq); }
  function markSeen(seq) {
    seen.add(seq);
    if (seen.size > SEEN_KEEP * 2) {
      seenFloor = Math.max(seenFloor, newestSeq - SEEN_KEEP);
      seen.forEach(function (value) { if (value <= seenFloor) { seen.delete(value); } });
    }
  }
  /* The newest posts handed out (seq -> network and id), the projector's queue included,
     which is not in the document yet: what the catch-up tells the server the wall shows,
     so it can name those deleted or hidden meanwhile (see dropGone). Bounded. */
  var SHOWN_MAX = 200;   /* the most `shown=` may list */
  var handedOut = new Map();
  function handOut(seq, network, id) {
    handedOut.set(seq, { network: network, id: id });
    if (handedOut.size > SHOWN_MAX * 2) {
      Array.from(handedOut.keys()).sort(function (a, b) { return a - b; })
        .slice(0, handedOut.size - SHOWN_MAX).forEach(function (old) { handedOut.delete(old); });
    }
  }
  boxes.forEach(function (box) {
    box.querySelectorAll("article[data-seq]").forEach(function (node) {
      var seq = Number(node.getAttribute("data-seq"));
      markSeen(seq);
      handOut(seq, node.getAttribute("data-network"), node.getAttribute("data-id"));
      newestSeq = Math.max(newestSeq, seq);
    });
  });

  function notify(kind, payload) {
    subscribers.forEach(function (listener) {
      try { listener(kind, payload); } catch (e) { /* one listener never stops the others */ }
    });
  }

  /* --- polite announcements for the embeddable feed: at most one post per ANNOUNCE_EVERY,
     the newest, so a burst is not read out post by post. -------------------------------- */
  var ANNOUNCE_EVERY = 5000;
  var announcers = document.querySelectorAll("[data-twitsocket-announcer]");
  var announceTimer = null;
  var toAnnounce = null;
  var lastAnnounced = 0;
  function announce(post) {
    if (!announcers.length) { return; }
    toAnnounce = post;
    if (announceTimer !== null) { return; }
    var wait = Math.max(0, lastAnnounced + ANNOUNCE_EVERY - Date.now());
    announceTimer = window.setTimeout(function () {
      announceTimer = null;
      lastAnnounced = Date.now();
      var author = toAnnounce.author || {};
      var text = t("announce", { name: view.withoutBidi(author.name || author.username),
                                 text: String(toAnnounce.text || "").slice(0, 280) });
      announcers.forEach(function (node) { node.textContent = text; });
    }, wait);
  }

  function findPost(box, seq) {
    return box.querySelector('article[data-seq="' + CSS.escape(String(seq)) + '"]');
  }

  /* Newest on top, whatever order posts arrive in (catch-up and live feed may interleave). */
  function insertInOrder(box, node, seq) {
    var posts = box.querySelectorAll("article[data-seq]");
    for (var i = 0; i < posts.length; i++) {
      if (Number(posts[i].getAttribute("data-seq")) < seq) {
        posts[i].parentNode.insertBefore(node, posts[i]);
        return;
      }
    }
    box.appendChild(node);
  }

  function addPost(post) {
    var seq = Number(post && post.seq);
    if (!seq || wasSeen(seq)) { return; }
    markSeen(seq);
    containers.forEach(function (box) {
      var node = renderPost(post);
      node.classList.add("new");
      node.addEventListener("animationend", function () { node.classList.remove("new"); });
      insertInOrder(box, node, seq);
      var limit = Number(box.getAttribute("data-limit")) || 30;
      var posts = box.querySelectorAll("article[data-seq]");
      for (var i = limit; i < posts.length; i++) { posts[i].remove(); }
      refreshTimes(node);
    });
    newestSeq = Math.max(newestSeq, seq);
    handOut(seq, String(post.network), String(post.id));
    if (containers.length) { announce(post); }
    notify("post", post);
  }

  function updatePost(post) {
    containers.forEach(function (box) {
      var old = findPost(box, post.seq);
      if (old) {
        var node = renderPost(post);
        old.replaceWith(node);
        refreshTimes(node);
      }
    });
    notify("update", post);
  }

  /* The seqs the wall shows (the page's posts and those handed out), newest first. */
  function shownSeqs() {
    var seqs = new Set(handedOut.keys());
    document.querySelectorAll("article[data-seq][data-id]").forEach(function (node) {
      seqs.add(Number(node.getAttribute("data-seq")));
    });
    return Array.from(seqs).filter(function (seq) { return seq > 0; })
      .sort(function (a, b) { return b - a; }).slice(0, SHOWN_MAX);
  }

  /* Posts deleted or hidden while the wall was offline (the catch-up's `gone`): each is
     removed exactly as its missed `delete` message would have removed it. */
  function dropGone(gone) {
    if (!Array.isArray(gone)) { return; }
    gone.forEach(function (seqText) {
      var seq = Number(seqText);
      var post = handedOut.get(seq);
      var node = post ? null : document.querySelector('article[data-seq="' + CSS.escape(String(seqText)) + '"]');
      if (node) { post = { network: node.getAttribute("data-network"), id: node.getAttribute("data-id") }; }
      if (post && post.id) { removePost({ type: "delete", id: post.id, network: post.network, seq: String(seq) }); }
    });
  }

  function removePost(message) {
    document.querySelectorAll("article[data-id]").forEach(function (node) {
      if (node.getAttribute("data-id") === String(message.id) &&
          (!message.network || node.getAttribute("data-network") === message.network)) {
        node.remove();
      }
    });
    if (message.seq) {   /* never brought back by a catch-up, nor named in `shown=` */
      markSeen(Number(message.seq));
      handedOut.delete(Number(message.seq));
    }
    notify("delete", message);
  }

  function setCount(count) {
    if (typeof count !== "number") { return; }
    counters.forEach(function (node) { node.textContent = String(count); });
  }

  /* --- moderation (issue 7): a pinned post goes on top of every wall, an unpinned one
     back to its place; an observer keeps pinned posts above newer arrivals. ----------- */
  function pinned(message) {
    var post = message.tweet || message;
    containers.forEach(function (box) {
      var node = null;
      box.querySelectorAll(":scope > article[data-id]").forEach(function (n) {
        if (n.getAttribute("data-id") === String(post.id) &&
            n.getAttribute("data-network") === String(post.network)) { node = n; }
      });
      if (message.type === "unpin") {
        if (node) { node.classList.remove("pinned"); insertInOrder(box, node, Number(node.getAttribute("data-seq"))); }
        return;
      }
      if (!node) { node = renderPost(post); refreshTimes(node); }
      node.classList.add("pinned");
      box.insertBefore(node, box.firstChild);
      if (box.twitsocketPins) { return; }
      box.twitsocketPins = new MutationObserver(function () {
        var pins = box.querySelectorAll(":scope > article.pinned");
        var onTop = Array.prototype.every.call(pins, function (pin, i) { return box.children[i] === pin; });
        for (var i = pins.length - 1; !onTop && i >= 0; i--) { box.insertBefore(pins[i], box.firstChild); }
      });
      box.twitsocketPins.observe(box, { childList: true });
    });
    if (post.seq) { markSeen(Number(post.seq)); }
    notify(message.type, message);
  }

  var handlers = {
    tweet: function (message) { addPost(message.tweet); },
    update: function (message) { updatePost(message.tweet); },
    "delete": removePost,
    count: function (message) { setCount(message.count); },
    pin: pinned, unpin: pinned   /* moderation (issue 7) */
  };

  function handle(message) {
    if (!message || typeof message.type !== "string") { return; }
    var handler = Object.prototype.hasOwnProperty.call(handlers, message.type) && handlers[message.type];
    if (handler) { handler(message); }
  }

  /* --- retweet switch ------------------------------------------------------------- */
  function storedHide() {
    try { return window.localStorage.getItem(STORAGE_KEY) === "1"; } catch (e) { return false; }
  }

  function applyRetweetPreference() {
    var hide = storedHide();
    document.documentElement.classList.toggle("twitsocket-hide-retweets", hide);
    document.querySelectorAll("[data-twitsocket-retweet-switch]").forEach(function (button) {
      button.setAttribute("aria-pressed", hide ? "true" : "false");
      button.textContent = button.getAttribute(hide ? "data-label-show" : "data-label-hide");
    });
  }

  document.querySelectorAll("[data-twitsocket-retweet-switch]").forEach(function (button) {
    button.addEventListener("click", function () {
      try { window.localStorage.setItem(STORAGE_KEY, storedHide() ? "0" : "1"); } catch (e) { /* private mode */ }
      applyRetweetPreference();
    });
  });
  window.addEventListener("storage", function (event) {   /* another tab of the wall */
    if (event.key === STORAGE_KEY) { applyRetweetPreference(); }
  });

  /* --- status badge: live / reconnecting / offline, and which transport ----------- */
  var badge = document.querySelector("[data-twitsocket-status-badge]");
  if (!badge) {
    badge = el("div", "twitsocket-status");
    badge.setAttribute("data-twitsocket-status-badge", "");
    badge.setAttribute("role", "status");
    badge.setAttribute("aria-live", "polite");
    document.body.appendChild(badge);
  }
  badge.title = t("status_label");

  var transport = (fallback === "always" || !wsUrl || !window.WebSocket) && eventsUrl &&
      window.EventSource ? "sse" : "websocket";

  function setStatus(state) {
    var label = state === "live" && transport === "sse" ? t("live_sse") : t(state);
    document.documentElement.setAttribute("data-twitsocket-status", state);
    document.documentElement.setAttribute("data-twitsocket-transport", transport);
    badge.setAttribute("data-state", state);
    badge.setAttribute("data-transport", transport);
    badge.textContent = label;
  }

  /* --- catch-up: what was stored while we were away, once and in order ------------ */
  var catchingUp = false;
  var held = [];   /* live messages that arrive during a catch-up wait for it */

  function receive(message) {
    if (catchingUp) { held.push(message); } else { handle(message); }
  }

  function catchUp() {
    if (!apiUrl) { return; }
    catchingUp = true;
    var limit = Math.max.apply(null, boxes.map(function (box) {
      return Number(box.getAttribute("data-limit")) || 30;
    }).concat([1]));
    var shown = shownSeqs();
    fetch(apiUrl + (apiUrl.indexOf("?") < 0 ? "?" : "&") + "since_id=" + encodeURIComponent(newestSeq) + "&limit=" + limit +
          (shown.length ? "&shown=" + shown.join(",") : ""),
          { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !Array.isArray(data.tweets)) { return; }
        dropGone(data.gone);   /* first: a post shown again comes back with a fresh seq */
        data.tweets.slice().reverse().forEach(addPost);
        (data.missed || []).slice().reverse().forEach(addPost);   /* up on this wall meanwhile */
        setCount(data.count);
      })
      .catch(function () { /* the next reconnect tries again */ })
      .then(function () {
        catchingUp = false;
        var queued = held;
        held = [];
        queued.forEach(handle);
      });
  }

  /* --- connection: websocket or event stream, back-off with jitter ---------------- */
  var attempts = 0;
  var wsEverOpened = false;
  var wsFailures = 0;
  var timer = null;

  function connect() {
    timer = null;
    if (transport === "sse") { connectEvents(); } else { connectSocket(); }
  }

  function opened() {
    attempts = 0;
    setStatus("live");
    catchUp();
  }

  function parse(data) {
    try { return JSON.parse(data); } catch (e) { return null; }
  }

  function connectSocket() {
    var socket;
    var isOpen = false;
    try { socket = new WebSocket(wsUrl); } catch (e) { socketFailed(false); return; }
    var openTimer = window.setTimeout(function () { if (!isOpen) { socket.close(); } }, OPEN_TIMEOUT);
    socket.addEventListener("open", function () {
      isOpen = true;
      wsEverOpened = true;
      wsFailures = 0;
      window.clearTimeout(openTimer);
      opened();
    });
    socket.addEventListener("message", function (event) { receive(parse(event.data)); });
    socket.addEventListener("close", function () {
      window.clearTimeout(openTimer);
      socketFailed(isOpen);
    });
  }

  /* A websocket that never opened on this page, twice: something between us and the
     server blocks it. One that worked before is just a server restart: keep trying it. */
  function socketFailed(hadOpened) {
    if (!hadOpened) { wsFailures += 1; }
    if (!hadOpened && !wsEverOpened && fallback === "auto" && eventsUrl && window.EventSource &&
        wsFailures >= FAILURES_BEFORE_FALLBACK) {
      transport = "sse";
      attempts = 0;
      setStatus("connecting");
      connect();
      return;
    }
    schedule();
  }

  function connectEvents() {
    var url = eventsUrl + (eventsUrl.indexOf("?") < 0 ? "?" : "&") +
        "last_event_id=" + encodeURIComponent(newestSeq);
    var source = new EventSource(url, { withCredentials: false });
    source.addEventListener("open", opened);
    source.addEventListener("message", function (event) { receive(parse(event.data)); });
    source.addEventListener("error", function () {
      /* EventSource would retry on its own, without back-off: take over. */
      source.close();
      schedule();
    });
  }

  function schedule() {
    if (timer !== null) { return; }
    attempts += 1;
    setStatus(attempts >= ATTEMPTS_BEFORE_OFFLINE || navigator.onLine === false ? "offline" : "reconnecting");
    var delay = Math.min(MAX_DELAY, 500 * Math.pow(2, Math.min(attempts, 7)));
    timer = window.setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

  window.addEventListener("online", function () {   /* Wi-Fi is back: do not wait */
    if (timer !== null) { window.clearTimeout(timer); connect(); }
  });

  /* Avatars come from the networks and may not load (the demo has no network at all):
     drop the broken image so the initials underneath show. */
  function dropBrokenImage(img) {
    if (img.parentNode && img.parentNode.classList.contains("avatar")) { img.remove(); }
  }
  document.addEventListener("error", function (event) {
    if (event.target && event.target.tagName === "IMG") { dropBrokenImage(event.target); }
  }, true);
  document.querySelectorAll(".avatar img").forEach(function (img) {
    if (img.complete && img.naturalWidth === 0) { dropBrokenImage(img); }
  });

  /* For other scripts (the projector page, moderation): react to a message type, and
     build nodes with the same safe helpers. */
  window.twitsocket = {
    on: function (type, handler) { handlers[type] = handler; },
    /* every post, update, delete, pin and unpin, once, after the client's de-duplication */
    subscribe: function (listener) { subscribers.push(listener); },
    renderPost: renderPost,
    refreshTimes: refreshTimes,
    safeUrl: view.safeUrl,
    lang: view.lang,
    el: el,
    label: view.label,
    avatar: view.avatar,
    t: t
  };

  applyRetweetPreference();
  refreshTimes();
  window.setInterval(refreshTimes, 30000);
  setStatus("connecting");
  connect();
})();
