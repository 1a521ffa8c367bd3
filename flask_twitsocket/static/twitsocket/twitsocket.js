/* flask-twitsocket wall client.
 *
 * Vanilla JS, no build step. Reads its settings from #twitsocket-config data- attributes
 * (no inline script, so pages work under a strict CSP). Everything in a post is hostile:
 * the DOM is built with textContent and createElement only, and only http(s) URLs become
 * links or images.
 */
(function () {
  "use strict";

  var config = document.getElementById("twitsocket-config");
  if (!config) { return; }

  var wsUrl = absoluteWsUrl(config.getAttribute("data-ws-url"));
  var apiUrl = config.getAttribute("data-api-url");
  var STORAGE_KEY = "twitsocket.hideRetweets";

  function absoluteWsUrl(url) {
    if (/^wss?:\/\//.test(url)) { return url; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + url;
  }

  function safeUrl(url) {
    if (typeof url !== "string") { return null; }
    try {
      var parsed = new URL(url, window.location.href);
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

  function link(className, url, text) {
    var a = el("a", className, text);
    a.href = url;
    a.rel = "nofollow noopener noreferrer";
    a.target = "_blank";
    return a;
  }

  function initials(author) {
    var words = String(author.name || author.username || "?").split(/\s+/).filter(Boolean);
    var letters = words.slice(0, 2).map(function (w) { return Array.from(w)[0]; }).join("");
    return (letters || "?").toUpperCase();
  }

  function avatar(author) {
    var wrap = el("span", "avatar");
    wrap.setAttribute("aria-hidden", "true");
    var src = safeUrl(author.avatar_url);
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
    function plain(from, to) {
      var lines = chars.slice(from, to).join("").split("\n");
      lines.forEach(function (line, i) {
        if (i > 0) { p.appendChild(el("br")); }
        if (line) { p.appendChild(document.createTextNode(line)); }
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
    var article = el("article", "tweet" + (post.is_retweet ? " retweet" : ""));
    article.setAttribute("data-seq", post.seq);
    article.setAttribute("data-id", post.id);
    article.setAttribute("data-network", post.network);
    article.setAttribute("data-retweet", post.is_retweet ? "true" : "false");
    article.appendChild(avatar(post.author || {}));
    var body = el("div", "body");
    var header = el("header");
    header.appendChild(el("span", "name", post.author.name || post.author.username));
    header.appendChild(el("span", "username", "@" + post.author.username));
    var badge = el("span", "network network-" + String(post.network).replace(/[^a-z]/g, ""), post.network);
    badge.title = post.network;
    header.appendChild(badge);
    body.appendChild(header);
    body.appendChild(richText(post));
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
    if (post.retweet_count) { footer.appendChild(el("span", "retweets", post.retweet_count)); }
    body.appendChild(footer);
    article.appendChild(body);
    return article;
  }

  /* --- relative times ------------------------------------------------------------- */
  function relative(iso) {
    var seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (isNaN(seconds)) { return iso; }
    if (seconds < 45) { return "just now"; }
    if (seconds < 3600) { return Math.round(seconds / 60) + " min ago"; }
    if (seconds < 86400) { return Math.round(seconds / 3600) + " h ago"; }
    return new Date(iso).toLocaleDateString();
  }

  function refreshTimes(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (node) {
      node.textContent = relative(node.getAttribute("datetime"));
    });
  }

  /* --- the wall ------------------------------------------------------------------- */
  var containers = Array.prototype.slice.call(document.querySelectorAll("[data-twitsocket-tweets]"));
  var counters = document.querySelectorAll("[data-twitsocket-count]");
  var newestSeq = 0;
  containers.forEach(function (box) {
    box.querySelectorAll("article[data-seq]").forEach(function (node) {
      newestSeq = Math.max(newestSeq, Number(node.getAttribute("data-seq")));
    });
  });

  function hasPost(box, seq) {
    return box.querySelector('article[data-seq="' + CSS.escape(String(seq)) + '"]') !== null;
  }

  function addPost(post) {
    containers.forEach(function (box) {
      if (hasPost(box, post.seq)) { return; }
      var node = renderPost(post);
      node.classList.add("new");
      box.insertBefore(node, box.firstChild);
      var limit = Number(box.getAttribute("data-limit")) || 30;
      var posts = box.querySelectorAll("article[data-seq]");
      for (var i = limit; i < posts.length; i++) { posts[i].remove(); }
      refreshTimes(node);
    });
    newestSeq = Math.max(newestSeq, Number(post.seq));
  }

  function updatePost(post) {
    containers.forEach(function (box) {
      var old = box.querySelector('article[data-seq="' + CSS.escape(String(post.seq)) + '"]');
      if (old) {
        var node = renderPost(post);
        old.replaceWith(node);
        refreshTimes(node);
      }
    });
  }

  function removePost(message) {
    document.querySelectorAll("article[data-id]").forEach(function (node) {
      if (node.getAttribute("data-id") === String(message.id) &&
          (!message.network || node.getAttribute("data-network") === message.network)) {
        node.remove();
      }
    });
  }

  function setCount(count) {
    counters.forEach(function (node) { node.textContent = String(count); });
  }

  function handle(message) {
    if (message.type === "tweet") { addPost(message.tweet); }
    else if (message.type === "update") { updatePost(message.tweet); }
    else if (message.type === "delete") { removePost(message); }
    else if (message.type === "count") { setCount(message.count); }
  }

  /* --- retweet switch ------------------------------------------------------------- */
  function applyRetweetPreference() {
    var hide = window.localStorage.getItem(STORAGE_KEY) === "1";
    document.documentElement.classList.toggle("twitsocket-hide-retweets", hide);
    document.querySelectorAll("[data-twitsocket-retweet-switch]").forEach(function (button) {
      button.setAttribute("aria-pressed", hide ? "true" : "false");
      button.textContent = button.getAttribute(hide ? "data-label-show" : "data-label-hide");
    });
  }

  document.querySelectorAll("[data-twitsocket-retweet-switch]").forEach(function (button) {
    button.addEventListener("click", function () {
      var hide = window.localStorage.getItem(STORAGE_KEY) === "1";
      window.localStorage.setItem(STORAGE_KEY, hide ? "0" : "1");
      applyRetweetPreference();
    });
  });

  /* --- connection: websocket, reconnect with back-off and jitter, catch up -------- */
  var attempts = 0;

  function catchUp() {
    if (!apiUrl || !newestSeq) { return Promise.resolve(); }
    return fetch(apiUrl + "?since_id=" + encodeURIComponent(newestSeq) + "&limit=200",
                 { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.tweets.slice().reverse().forEach(addPost);
        setCount(data.count);
      })
      .catch(function () { /* the next reconnect tries again */ });
  }

  function connect() {
    var socket;
    try { socket = new WebSocket(wsUrl); } catch (e) { schedule(); return; }
    socket.addEventListener("open", function () {
      attempts = 0;
      document.documentElement.setAttribute("data-twitsocket-status", "live");
      catchUp();
    });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      handle(message);
    });
    socket.addEventListener("close", function () {
      document.documentElement.setAttribute("data-twitsocket-status", "reconnecting");
      schedule();
    });
  }

  function schedule() {
    attempts += 1;
    var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempts, 6)));
    window.setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

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

  applyRetweetPreference();
  refreshTimes();
  window.setInterval(refreshTimes, 30000);
  connect();
})();
