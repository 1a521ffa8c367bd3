/* flask-twitsocket: a post's DOM from its JSON message, the same on every page.
 *
 * Everything in a post is hostile: the DOM is built with textContent and createElement
 * only, and only http(s) URLs become links or images. Loaded just before twitsocket.js
 * (both deferred, so in document order); reads the media proxy's base, the
 * sensitive-media mode and the translated words from #twitsocket-config, and offers its
 * helpers as window.twitsocketView, which twitsocket.js hands on to the projector and
 * console scripts as part of window.twitsocket.
 */
(function () {
  "use strict";

  var config = document.getElementById("twitsocket-config");
  if (!config) { return; }

  var apiUrl = config.getAttribute("data-api-url");
  /* The media proxy's base ("" when off): images come from "<base><seq>/<part>". */
  var mediaBase = config.getAttribute("data-media-url") || "";
  /* a wall of several: its top users' avatars come from that wall's list ("?wall=…") */
  var wallQuery = apiUrl && apiUrl.indexOf("?") >= 0 ? apiUrl.slice(apiUrl.indexOf("?")) : "";
  var sensitiveMode = config.getAttribute("data-sensitive-media") || "blur";

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
  function withoutBidi(text) { return String(text || "").replace(BIDI_CONTROLS, ""); }
  function label(className, text, dir) {
    var node = el("span", className, withoutBidi(text));
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
    var words = withoutBidi(author.name || author.username || "?")
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

  window.twitsocketView = {
    renderPost: renderPost,
    refreshTimes: refreshTimes,
    safeUrl: safeUrl,
    lang: lang,
    el: el,
    label: label,
    withoutBidi: withoutBidi,
    avatar: avatar,
    t: t
  };
})();
