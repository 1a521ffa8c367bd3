/* flask-twitsocket wall client.
 *
 * Vanilla JS, no build step. Reads its settings and its translated messages from
 * #twitsocket-config data- attributes (no inline script, so pages work under a strict CSP).
 * Everything in a post is hostile: the DOM is built with textContent and createElement
 * only, and only http(s) URLs become links or images.
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

  var wsUrl = absoluteWsUrl(config.getAttribute("data-ws-url"));
  var apiUrl = config.getAttribute("data-api-url");
  var eventsUrl = config.getAttribute("data-events-url");
  var fallback = config.getAttribute("data-fallback") || "auto";
  /* The media proxy's base ("" when off): images come from "<base><seq>/<part>". */
  var mediaBase = config.getAttribute("data-media-url") || "";
  /* a wall of several: its top users' avatars come from that wall's list ("?wall=…") */
  var wallQuery = apiUrl && apiUrl.indexOf("?") >= 0 ? apiUrl.slice(apiUrl.indexOf("?")) : "";
  var sensitiveMode = config.getAttribute("data-sensitive-media") || "blur";
  var STORAGE_KEY = "twitsocket.hideRetweets";
  var OPEN_TIMEOUT = 10000;      /* a proxy may swallow the upgrade instead of refusing it */
  var FAILURES_BEFORE_FALLBACK = 2;
  var ATTEMPTS_BEFORE_OFFLINE = 5;
  var MAX_DELAY = 30000;

  /* --- translated messages --------------------------------------------------------- */
  var DEFAULT_MESSAGES = {
    status_label: "Connection status", connecting: "Connecting…", live: "Live",
    live_sse: "Live (fallback: server-sent events)", reconnecting: "Reconnecting…",
    offline: "Offline, still retrying", just_now: "just now", minutes_ago: "{n} min ago",
    hours_ago: "{n} h ago", reposts: "reposts", reposted_by: "Reposted by", video: "Video",
    quoted_post: "Quoted post"
  };
  var messages = {};
  try { messages = JSON.parse(config.getAttribute("data-i18n") || "{}") || {}; } catch (e) { messages = {}; }
  var lang = config.getAttribute("data-lang") || document.documentElement.lang || undefined;

  function t(key, values) {
    var text = typeof messages[key] === "string" ? messages[key] : DEFAULT_MESSAGES[key] || key;
    return text.replace(/\{(\w+)\}/g, function (match, name) {
      return values && name in values ? String(values[name]) : match;
    });
  }

  function absoluteWsUrl(url) {
    if (!url) { return null; }
    if (/^wss?:\/\//.test(url)) { return url; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + url;
  }

  /* Absolute http(s) URLs only, as the server's render.safe_url: no base URL, so "" or a
     relative path never turns into a link to this page. */
  function safeUrl(url) {
    if (typeof url !== "string" || !url) { return null; }
    try {
      var parsed = new URL(url.trim());
      if ((parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.host) {
        return parsed.href;
      }
    } catch (e) { /* not a URL */ }
    return null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* A name or handle as shown, as the server's sanitise.clean_label: no bidi controls
     (an override would reverse "@mallory" into "yrollam@"), in its own isolated box. */
  var BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
  function label(className, text, dir) {
    var node = el("span", className, String(text || "").replace(BIDI_CONTROLS, ""));
    node.dir = dir || "auto";
    return node;
  }

  function link(className, url, text) {
    var a = el("a", className, text);
    a.href = url;
    a.rel = "nofollow noopener noreferrer";
    a.target = "_blank";
    return a;
  }

  function initials(author) {
    var words = String(author.name || author.username || "?").replace(BIDI_CONTROLS, "")
      .split(/\s+/).filter(Boolean);
    var letters = words.slice(0, 2).map(function (w) { return Array.from(w)[0]; }).join("");
    return (letters || "?").toUpperCase();
  }

  /* An image of a post as the server's web/media.media_src: through the proxy when it is
     on and the post has a seq (not yet, in the moderation queue), else the stored URL. */
  function mediaSrc(post, part, url) {
    if (!safeUrl(url)) { return null; }
    if (mediaBase && post.seq) { return mediaBase + encodeURIComponent(post.seq) + "/" + part; }
    return safeUrl(url);
  }

  function image(className, src, alt) {
    var img = el("img", className);
    img.alt = alt || "";
    img.loading = "lazy";
    img.referrerPolicy = "no-referrer";
    img.src = src;
    return img;
  }

  function renderMedia(post, items, prefix) {
    items = Array.isArray(items) ? items : [];
    var box = el("div", "media media-count-" + Math.min(items.length, 4));
    items.forEach(function (item, i) {
      var src = item && mediaSrc(post, prefix + i, item.preview_url);
      if (!src) { return; }
      var kind = { photo: "photo", video: "video", gif: "gif" }[item.type] || "photo";
      var figure = el("figure", "media-item media-" + kind);
      var img = image(null, src, item.alt);
      if (item.width > 0 && item.height > 0) { img.width = item.width; img.height = item.height; }
      figure.appendChild(img);
      if (kind !== "photo") { figure.appendChild(el("span", "media-kind", kind === "video" ? t("video") : "GIF")); }
      if (item.alt) {
        var caption = el("figcaption", "alt-text", item.alt);
        caption.dir = "auto";
        figure.appendChild(caption);
      }
      box.appendChild(figure);
    });
    return box.childNodes.length ? box : null;
  }

  function renderCard(post) {
    var card = post.card;
    var url = card && safeUrl(card.url);
    if (!url) { return null; }
    var a = link("link-card", url);
    var src = mediaSrc(post, "c", card.image);
    if (src) { a.appendChild(image("link-card-image", src, "")); }
    a.appendChild(label("link-card-title", card.title || url));
    if (card.description) { a.appendChild(label("link-card-description", card.description)); }
    return a;
  }

  function renderQuote(post) {
    var quote = post.quote;
    if (!quote || typeof quote !== "object") { return null; }
    var author = quote.author || {};
    var box = el("blockquote", "quote");
    var header = el("header");
    header.appendChild(label("name", author.name || author.username));
    header.appendChild(label("username", "@" + (author.username || ""), "ltr"));
    box.appendChild(header);
    if (quote.text) {
      var text = el("p", "quote-text", quote.text);
      text.dir = "auto";
      box.appendChild(text);
    } else if (safeUrl(quote.url)) {
      box.appendChild(link("quote-link", safeUrl(quote.url), t("quoted_post")));
    }
    var media = renderMedia(post, quote.media, "q");
    if (media) { box.appendChild(media); }
    return box;
  }

  function avatar(author, post) {
    var wrap = el("span", "avatar");
    wrap.setAttribute("aria-hidden", "true");
    /* a post's author, or a top user (the API's "rank": <base>top/<rank>) */
    var src = post ? mediaSrc(post, "a", author.avatar_url)
      : mediaBase && author.rank && safeUrl(author.avatar_url)
        ? mediaBase + "top/" + encodeURIComponent(author.rank) + wallQuery
        : safeUrl(author.avatar_url);
    if (src) {
      var img = el("img");
      img.alt = "";
      img.loading = "lazy";
      img.referrerPolicy = "no-referrer";
      img.width = 48;
      img.height = 48;
      img.src = src;
      wrap.appendChild(img);
    }
    wrap.appendChild(el("span", "initials", initials(author)));
    return wrap;
  }

  /* Text with entity links; offsets count code points, hence Array.from. */
  function richText(post) {
    var p = el("p", "text");
    p.dir = "auto";
    var chars = Array.from(post.text || "");
    var entities = (post.entities || []).slice().sort(function (a, b) { return a.start - b.start; });
    var cursor = 0;
    /* custom emojis (Mastodon): ":shortcode:" shown as its small image, the code as alt */
    var emojis = {};
    (post.emojis || []).forEach(function (emoji, i) {
      var src = emoji && mediaSrc(post, "e" + i, emoji.url);
      if (src && /^\w+$/.test(emoji.shortcode)) { emojis[emoji.shortcode] = src; }
    });
    function words(text) {
      text.split(/(:\w+:)/).forEach(function (piece) {
        var src = /^:\w+:$/.test(piece) && emojis[piece.slice(1, -1)];
        if (src) {
          var img = image("emoji", src, piece);
          img.title = piece;
          p.appendChild(img);
        } else if (piece) {
          p.appendChild(document.createTextNode(piece));
        }
      });
    }
    function plain(from, to) {
      var lines = chars.slice(from, to).join("").split("\n");
      lines.forEach(function (line, i) {
        if (i > 0) { p.appendChild(el("br")); }
        if (line) { words(line); }
      });
    }
    entities.forEach(function (entity) {
      var start = entity.start, end = entity.end;
      if (typeof start !== "number" || typeof end !== "number" || start < cursor ||
          end <= start || end > chars.length) { return; }
      plain(cursor, start);
      var label = chars.slice(start, end).join("");
      var url = safeUrl(entity.url);
      if (url) {
        var kind = { url: "link", mention: "mention", hashtag: "hashtag", media: "media" }[entity.type] || "link";
        p.appendChild(link(kind, url, entity.type === "url" && entity.display ? entity.display : label));
      } else {
        p.appendChild(document.createTextNode(label));
      }
      cursor = end;
    });
    plain(cursor, chars.length);
    return p;
  }

  function renderPost(post) {
    var author = post.author || {};
    var veiled = (post.sensitive || post.content_warning) && !post.revealed && sensitiveMode !== "show";
    var article = el("article", "tweet" + (post.is_retweet ? " retweet" : "") + (veiled ? " sensitive" : ""));
    article.setAttribute("data-seq", post.seq);
    article.setAttribute("data-id", post.id);
    article.setAttribute("data-network", post.network);
    article.setAttribute("data-retweet", post.is_retweet ? "true" : "false");
    article.appendChild(avatar(author, post));
    var body = el("div", "body");
    if (post.reposted_by && post.reposted_by.username) {
      var by = el("p", "reposted-by", t("reposted_by") + " ");
      by.appendChild(label("username", "@" + post.reposted_by.username, "ltr"));
      body.appendChild(by);
    }
    var header = el("header");
    header.appendChild(label("name", author.name || author.username));
    header.appendChild(label("username", "@" + (author.username || ""), "ltr"));
    var badge = el("span", "network network-" + String(post.network).replace(/[^a-z]/g, ""), post.network);
    badge.title = String(post.network);
    header.appendChild(badge);
    body.appendChild(header);
    if (post.content_warning) {
      var warning = el("p", "content-warning", post.content_warning);
      warning.dir = "auto";
      body.appendChild(warning);
    }
    if (post.text) { body.appendChild(richText(post)); }
    [renderMedia(post, post.media, "m"), renderCard(post), renderQuote(post)].forEach(function (node) {
      if (node) { body.appendChild(node); }
    });
    var footer = el("footer");
    if (post.is_retweet) { footer.appendChild(el("span", "rt", "RT")); }
    var time = el("time", null, post.created_at);
    time.setAttribute("datetime", post.created_at);
    var url = safeUrl(post.url);
    if (url) {
      var a = link("time", url);
      a.appendChild(time);
      footer.appendChild(a);
    } else {
      time.className = "time";
      footer.appendChild(time);
    }
    if (post.retweet_count) {
      var reposts = el("span", "retweets", post.retweet_count);
      reposts.title = t("reposts");
      footer.appendChild(reposts);
    }
    body.appendChild(footer);
    article.appendChild(body);
    return article;
  }

  /* --- relative times: the browser's own words (Intl.RelativeTimeFormat) in the page's
     language; "just now" is ours (the catalogue's), older browsers get ours throughout. */
  var relativeFormat = null;
  try {
    relativeFormat = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "long" });
  } catch (e) { relativeFormat = null; }

  function relative(iso) {
    var seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (isNaN(seconds)) { return iso; }
    if (seconds < 45) { return t("just_now"); }
    var minutes = Math.max(1, Math.round(seconds / 60));
    var hours = Math.round(seconds / 3600);
    if (seconds < 3600) {
      return relativeFormat ? relativeFormat.format(-minutes, "minute") : t("minutes_ago", { n: minutes });
    }
    if (seconds < 86400) {
      return relativeFormat ? relativeFormat.format(-hours, "hour") : t("hours_ago", { n: hours });
    }
    return new Date(iso).toLocaleDateString(lang);
  }

  function refreshTimes(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (node) {
      node.textContent = relative(node.getAttribute("datetime"));
    });
  }

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
  boxes.forEach(function (box) {
    box.querySelectorAll("article[data-seq]").forEach(function (node) {
      var seq = Number(node.getAttribute("data-seq"));
      markSeen(seq);
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
      var text = t("announce", { name: String(author.name || author.username || "")
        .replace(BIDI_CONTROLS, ""), text: String(toAnnounce.text || "").slice(0, 280) });
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

  function removePost(message) {
    document.querySelectorAll("article[data-id]").forEach(function (node) {
      if (node.getAttribute("data-id") === String(message.id) &&
          (!message.network || node.getAttribute("data-network") === message.network)) {
        node.remove();
      }
    });
    if (message.seq) { markSeen(Number(message.seq)); }  /* never brought back by a catch-up */
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
    fetch(apiUrl + (apiUrl.indexOf("?") < 0 ? "?" : "&") + "since_id=" + encodeURIComponent(newestSeq) + "&limit=" + limit,
          { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !Array.isArray(data.tweets)) { return; }
        data.tweets.slice().reverse().forEach(addPost);
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
    safeUrl: safeUrl,
    lang: lang,
    el: el,
    label: label,
    avatar: avatar,
    t: t
  };

  applyRetweetPreference();
  refreshTimes();
  window.setInterval(refreshTimes, 30000);
  setStatus("connecting");
  connect();
})();
