/* The projector's pace: every post stays fully visible and still for at least the minimum
 * dwell (data-dwell seconds), whatever the stream does.
 *
 * Posts from the client (twitsocket.js, through window.twitsocket.subscribe) wait in a
 * DisplayQueue (wall-queue.js); a clock lets the wall move at most once per tick.
 *
 * - grid: a masonry of columns packed by this script (absolute positions, no gaps). A new
 *   post enters at the top of the column whose top card has been still the longest, and
 *   only once that card has had its dwell: the cards below it slide down, and every card
 *   in that column entered before it, so none moves before its own dwell is over. A card
 *   pushed out of the screen is removed: the DOM stays bounded for a three-day event.
 *   (A photo post may span two columns once posts carry media: see `span()`.)
 * - spotlight: one post, large, for a dwell, then the next from the queue (or, when the
 *   queue is empty, the next of the recent posts), with a strip of what comes next.
 * - ticker: the same, on one line along the bottom.
 *
 * When nothing new arrives for data-shuffle-after seconds, earlier approved posts (most
 * shared first; the server never returns hidden or deleted ones) are queued, marked as
 * earlier; a new post drops them at once. Deletes and hides remove a post from the screen
 * and from the queue at once. Everything is built with the client's safe helpers.
 */
(function () {
  "use strict";

  var main = document.querySelector("[data-wall-pacer]");
  var api = window.twitsocket;
  var Queue = window.TwitsocketWallQueue;
  var box = document.getElementById("tweets");
  if (!main || !api || !Queue || !box) { return; }

  var layout = main.getAttribute("data-layout") || "grid";
  var dwell = Math.max(1, Number(main.getAttribute("data-dwell")) || 8) * 1000;
  var shuffleAfter = Math.max(1, Number(main.getAttribute("data-shuffle-after")) || 30) * 1000;
  var queue = new Queue(Number(main.getAttribute("data-queue-cap")) || 100);
  var queueNote = main.querySelector("[data-wall-queue]");
  var root = document.documentElement;
  var CLOCK = 200;          /* how often the pacer looks; a move needs a whole tick */
  var HISTORY = 40;         /* recent posts kept for the rotation and the strip */
  var FADE_GRACE = 10000;   /* a fade-in the browser never reports ended, believed after */
  var MAX_REMOVED = 2000;   /* deleted keys remembered, so a shuffle never brings one back */
  var key = Queue.key;

  var removed = new Set();
  var history = [];         /* recent posts, newest first, for rotation (bounded) */
  var lastArrival = performance.now();
  var lastMove = 0;
  var shuffling = false;

  /* Monotonic, sub-millisecond: dwell is compared with what the screen showed. */
  function now() { return performance.now(); }

  /* A card's dwell starts when it has faded in, and only the browser knows when that is:
     on a busy machine the animation starts frames (even seconds) after the card went in.
     So `set` gets Infinity (not readable yet), then the time of `animationend`; a browser
     that never says so (a tab in the background) is believed after FADE_GRACE. */
  function stillFrom(node, set) {
    var fade = fadeIn(node);
    if (!fade) { set(now()); return; }
    set(Infinity);
    var pending = true;
    function faded() {
      if (pending) { pending = false; set(now()); }
    }
    node.addEventListener("animationend", faded);
    node.addEventListener("animationcancel", faded);
    window.setTimeout(faded, fade + FADE_GRACE);
  }

  function remember(post) {
    history = history.filter(function (p) { return key(p) !== key(post); });
    history.unshift(post);
    if (history.length > HISTORY) { history.length = HISTORY; }
  }

  function build(post, earlier) {
    var node = api.renderPost(post);
    if (earlier) {
      node.classList.add("earlier");
      node.querySelector("footer").appendChild(api.el("span", "wall-earlier", api.t("earlier")));
    }
    node.classList.add("new");
    node.addEventListener("animationend", function () { node.classList.remove("new"); });
    api.refreshTimes(node);
    return node;
  }

  /* How long a new card takes to fade in (0 with reduced motion): its dwell starts after. */
  function fadeIn(node) {
    var style = getComputedStyle(node);
    if (!style.animationName || style.animationName === "none") { return 0; }
    return (parseFloat(style.animationDuration) || 0) * 1000;
  }

  function postOf(node) {
    return { network: node.getAttribute("data-network"), id: node.getAttribute("data-id") };
  }

  function setEmpty() {
    var empty = !box.querySelector("article[data-seq]") && queue.empty();
    root.classList.toggle("wall-is-empty", empty);
  }

  function showQueue() {
    var waiting = queue.waiting();
    if (!waiting) { queue.skipped = 0; }
    queueNote.hidden = !waiting;
    queueNote.querySelector("[data-wall-queue-new]").textContent = api.t("new_posts", { n: waiting });
    queueNote.querySelector("[data-wall-skipped]").textContent =
      queue.skipped ? api.t("skipped", { n: queue.skipped }) : "";
    main.setAttribute("data-queued", String(waiting));
    main.setAttribute("data-skipped", String(queue.skipped));
  }

  /* --- grid: columns packed by hand --------------------------------------------------- */
  var grid = {
    columns: [],      /* [{nodes: [...top to bottom], still: time the top card entered}] */

    count: function () {
      var wanted = parseInt(getComputedStyle(box).getPropertyValue("--wall-columns"), 10);
      return Math.max(1, Math.min(8, wanted || 3));
    },

    gap: function () { return parseFloat(getComputedStyle(box).getPropertyValue("row-gap")) || 0; },

    /* How many columns a card takes; photo posts may take two once posts carry media. */
    span: function () { return 1; },

    setUp: function () {
      var nodes = Array.prototype.slice.call(box.querySelectorAll(":scope > article[data-seq]"));
      var n = grid.count();
      grid.columns = [];
      /* an empty column takes its first card at once (performance.now() starts at the
         page's navigation, not a dwell before it) */
      for (var c = 0; c < n; c++) { grid.columns.push({ nodes: [], still: -Infinity }); }
      nodes.forEach(function (node, i) {
        grid.columns[i % n].nodes.push(node);
        grid.columns[i % n].still = now();   /* on screen from now: a whole dwell first */
      });
      grid.placeAll();
    },

    placeAll: function () {
      grid.columns.forEach(function (column, c) { grid.place(c); });
    },

    place: function (c) {
      var column = grid.columns[c];
      var gap = grid.gap();
      var n = grid.columns.length;
      var width = (box.clientWidth - gap * (n - 1)) / n;
      var height = box.clientHeight;
      var y = 0;
      var kept = [];
      column.nodes.forEach(function (node) {
        if (y >= height) { node.remove(); return; }  /* out of the screen: out of the DOM */
        node.style.width = width + "px";
        node.style.transform = "translate(" + (c * (width + gap)) + "px, " + y + "px)";
        var bottom = y + node.offsetHeight;
        node.classList.toggle("wall-overflow", bottom > height);  /* never half a card */
        y = bottom + gap;
        kept.push(node);
      });
      column.nodes = kept;
    },

    /* The column whose top card has been still the longest, if that is a whole dwell. */
    ready: function () {
      var best = -1;
      grid.columns.forEach(function (column, c) {
        if (best < 0 || column.still < grid.columns[best].still) { best = c; }
      });
      return best >= 0 && now() - grid.columns[best].still >= dwell ? best : -1;
    },

    show: function (post, earlier) {
      var c = grid.ready();
      if (c < 0) { return false; }
      root.classList.remove("wall-is-empty");   /* the box must have its size to pack */
      var node = build(post, earlier);
      var column = grid.columns[c];
      column.nodes.unshift(node);
      /* DOM order: newest first across the wall (screen readers, tests, copies of it) */
      box.insertBefore(node, box.firstChild);
      grid.place(c);
      stillFrom(node, function (at) {   /* readable once it has faded in */
        if (at === Infinity || column.still === Infinity) { column.still = at; }
      });
      return true;
    },

    onScreen: function (wanted) {
      return grid.columns.some(function (column) {
        return column.nodes.some(function (node) { return key(postOf(node)) === wanted; });
      });
    },

    forget: function (node) {
      grid.columns.forEach(function (column, c) {
        var at = column.nodes.indexOf(node);
        if (at >= 0) { column.nodes.splice(at, 1); grid.place(c); }
        if (at === 0 && column.still === Infinity) { column.still = now(); }  /* gone mid-fade */
      });
    },

    replaced: function (old, node) {
      grid.columns.forEach(function (column, c) {
        var at = column.nodes.indexOf(old);
        if (at >= 0) { column.nodes[at] = node; grid.place(c); }
        if (at === 0 && column.still === Infinity) { column.still = now(); }  /* shown whole */
      });
    }
  };

  /* --- spotlight and ticker: one post at a time ---------------------------------------- */
  var strip = null;
  var single = {
    shownAt: -Infinity,
    rotation: 0,

    setUp: function () {
      var nodes = box.querySelectorAll(":scope > article[data-seq]");
      for (var i = 1; i < nodes.length; i++) { nodes[i].remove(); }
      single.shownAt = nodes.length ? now() : -Infinity;   /* empty: the first post at once */
      if (layout === "spotlight") {
        strip = api.el("ol", "wall-strip");
        strip.setAttribute("aria-hidden", "true");   /* a preview; the posts get their turn */
        main.appendChild(strip);
      }
    },

    /* The next post: the queue's, else the next of the recent ones (the rotation). */
    upcoming: function (count) {
      var list = queue.peek(count);
      for (var i = 0; list.length < count && i < history.length; i++) {
        var post = history[(single.rotation + i) % history.length];
        if (!single.onScreen(key(post)) && list.indexOf(post) < 0) { list.push(post); }
      }
      return list;
    },

    ready: function () { return now() - single.shownAt >= dwell; },

    show: function (post, earlier) {
      if (!single.ready()) { return false; }
      root.classList.remove("wall-is-empty");
      var node = build(post, earlier);
      box.replaceChildren(node);
      stillFrom(node, function (at) {
        if (at === Infinity || single.shownAt === Infinity) { single.shownAt = at; }
      });
      single.drawStrip();
      return true;
    },

    rotate: function () {
      if (!single.ready() || history.length < 2) { return; }
      single.rotation = (single.rotation + 1) % history.length;
      var post = history[single.rotation];
      if (single.onScreen(key(post))) { return; }
      single.show(post, false);
    },

    drawStrip: function () {
      if (!strip) { return; }
      strip.replaceChildren.apply(strip, single.upcoming(4).map(function (post) {
        var li = api.el("li");
        li.appendChild(api.renderPost(post));
        return li;
      }));
    },

    onScreen: function (wanted) {
      var node = box.querySelector(":scope > article[data-seq]");
      return Boolean(node) && key(postOf(node)) === wanted;
    },

    forget: function () { single.shownAt = 0; single.drawStrip(); },
    replaced: function () {   /* same place, same size; an update is shown whole at once */
      if (single.shownAt === Infinity) { single.shownAt = now(); }
    }
  };

  var view = layout === "grid" ? grid : single;

  /* --- the clock: at most one move per tick -------------------------------------------- */
  function tick() {
    var moved = false;
    if (!queue.empty()) {
      var next = queue.next();
      if (view.onScreen(key(next.post)) || view.show(next.post, next.earlier)) {
        moved = true;
      } else {
        /* not yet: put it back in front */
        if (next.earlier) { queue.earlier.unshift(next.post); } else { queue.fresh.unshift(next.post); }
      }
    } else if (view === single && now() - lastArrival >= dwell) {
      single.rotate();
    }
    if (moved) { lastMove = now(); }
    if (queue.empty() && now() - lastArrival >= shuffleAfter) { shuffle(); }
    showQueue();
    setEmpty();
  }

  /* --- the shuffle: earlier posts when the stream is quiet ------------------------------ */
  /* a wall's URLs already carry ?wall=slug */
  function withQuery(url, query) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + query;
  }

  function fetchPosts(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { return data && Array.isArray(data.tweets) ? data.tweets : []; })
      .catch(function () { return []; });
  }

  function rank(post) {
    var photos = Array.isArray(post.media) && post.media.length ? 1 : 0;
    return photos * 1e9 + (Number(post.retweet_count) || 0);
  }

  function shuffle() {
    if (shuffling) { return; }
    shuffling = true;
    var startedAt = lastArrival;
    Promise.all([
      fetchPosts(withQuery(main.getAttribute("data-top-url"), "limit=20")),
      fetchPosts(withQuery(main.getAttribute("data-shuffle-url"), "limit=60"))
    ]).then(function (lists) {
      if (lastArrival !== startedAt) { return; }   /* a new post came meanwhile: it wins */
      var byKey = new Map();
      lists[0].concat(lists[1]).forEach(function (post) {
        if (post && post.id && !removed.has(key(post)) && !byKey.has(key(post))) {
          byKey.set(key(post), post);
        }
      });
      var posts = Array.from(byKey.values()).filter(function (post) {
        return !view.onScreen(key(post));
      });
      /* most shared (and, once posts carry them, photos) first; ties in random order */
      posts.forEach(function (post) { post.__order = Math.random(); });
      posts.sort(function (a, b) { return rank(b) - rank(a) || a.__order - b.__order; });
      queue.pushEarlier(posts.slice(0, 12));
    }).then(function () {
      shuffling = false;
      /* the next round waits another quiet spell after this one is shown */
      lastArrival = Math.max(lastArrival, now() - shuffleAfter + dwell * 6);
    });
  }

  /* --- what the client tells us ------------------------------------------------------- */
  function removeEverywhere(message) {
    var wanted = String(message.network || "") + ":" + String(message.id);
    if (message.network) {
      removed.add(wanted);
      if (removed.size > MAX_REMOVED) { removed.delete(removed.values().next().value); }
    }
    queue.remove(message.network, message.id);
    history = history.filter(function (post) {
      return !(String(post.id) === String(message.id) &&
               (!message.network || String(post.network) === String(message.network)));
    });
    /* twitsocket.js removed the node from the document already; drop it from the layout */
    var gone = [];
    view === grid && grid.columns.forEach(function (column) {
      column.nodes.forEach(function (node) { if (!node.isConnected) { gone.push(node); } });
    });
    gone.forEach(grid.forget);
    if (view === single && !box.querySelector("article[data-seq]")) { single.forget(); }
    showQueue();
    setEmpty();
  }

  function updated(post) {
    box.querySelectorAll(":scope > article[data-id]").forEach(function (old) {
      if (key(postOf(old)) !== key(post)) { return; }
      var node = api.renderPost(post);
      var sensitive = node.classList.contains("sensitive");  /* a reveal changes it */
      node.className = old.className.replace(/\bnew\b/, "");
      node.classList.toggle("sensitive", sensitive);
      node.style.cssText = old.style.cssText;
      old.replaceWith(node);
      api.refreshTimes(node);
      view.replaced(old, node);
    });
  }

  /* --- pinned posts: a marked place of their own, on every layout ----------------------- */
  var pinnedBox = document.querySelector("[data-wall-pinned]");
  var MAX_PINS = 3;

  function pinNode(post) {
    var node = api.renderPost(post);
    node.classList.add("pinned");
    var marker = api.el("span", "wall-pin-marker", api.t("pinned"));
    node.querySelector("header").insertBefore(marker, node.querySelector("header").firstChild);
    api.refreshTimes(node);
    return node;
  }

  function pin(message) {
    if (!pinnedBox) { return; }
    var post = message.tweet || message;
    var wanted = key(post);
    pinnedBox.querySelectorAll("article[data-id]").forEach(function (node) {
      if (key(postOf(node)) === wanted) { node.remove(); }
    });
    if (message.type === "pin") {
      var heading = pinnedBox.querySelector("h2");
      pinnedBox.insertBefore(pinNode(post), heading ? heading.nextSibling : pinnedBox.firstChild);
      var pins = pinnedBox.querySelectorAll("article[data-id]");
      for (var i = MAX_PINS; i < pins.length; i++) { pins[i].remove(); }
    }
    pinnedBox.hidden = !pinnedBox.querySelector("article[data-id]");
  }

  api.subscribe(function (kind, payload) {
    if (kind === "post") {
      lastArrival = now();
      queue.push(payload);
      remember(payload);
      showQueue();
      if (now() - lastMove >= CLOCK) { tick(); }   /* an idle wall shows a post at once */
    } else if (kind === "update") {
      updated(payload);
    } else if (kind === "delete") {
      removeEverywhere(payload);
    } else if (kind === "pin" || kind === "unpin") {
      pin(payload);
    }
  });

  if (view === single) {   /* the rotation starts from the recent posts */
    fetchPosts(withQuery(main.getAttribute("data-shuffle-url"), "limit=" + HISTORY)).then(function (posts) {
      posts.slice().reverse().forEach(function (post) {
        if (!removed.has(key(post))) { remember(post); }
      });
    });
  }
  view.setUp();
  showQueue();
  setEmpty();
  window.setInterval(tick, CLOCK);
  var resizing = null;
  window.addEventListener("resize", function () {
    if (view !== grid) { return; }
    window.clearTimeout(resizing);
    resizing = window.setTimeout(grid.setUp, 250);
  });
})();
