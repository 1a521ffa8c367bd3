/* The projector page: the event's accent colour, and the "most active" column kept fresh
   (the counter and the posts are live already, through twitsocket.js and wall-pacer.js).
   Built with the client's safe DOM helpers only. */
(function () {
  "use strict";

  var api = window.twitsocket;
  var root = document.documentElement;

  /* The accent was validated by the server (a CSS colour); it reaches the page through the
     CSSOM, which a strict style-src allows, instead of a style attribute. Decorations only
     (borders, markers): text keeps the theme's colours, so contrast never depends on it. */
  var accent = root.getAttribute("data-accent");
  if (accent && window.CSS && CSS.supports("color", accent)) {
    root.style.setProperty("--event-accent", accent);
  }

  var side = document.querySelector("[data-wall-top-url]");
  var list = side && side.querySelector(".twitsocket-top-users");
  if (!side || !list || !api) { return; }
  var url = side.getAttribute("data-wall-top-url");
  var size = Math.max(list.children.length, 8);
  var REFRESH = 30000;   /* the stream refreshes it every TWITSOCKET_TOP_INTERVAL s; `flask twitsocket top` too */

  function row(user) {
    var li = api.el("li");
    li.setAttribute("data-network", String(user.network));
    li.appendChild(api.avatar(user));
    li.appendChild(api.label("name", user.name || user.username));
    li.appendChild(api.label("username", "@" + user.username, "ltr"));
    li.appendChild(api.el("span", "post-count", user.post_count));
    return li;
  }

  function refresh() {
    fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "limit=" + size, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !Array.isArray(data.users)) { return; }
        list.replaceChildren.apply(list, data.users.map(row));
      })
      .catch(function () { /* keep the list we have; try again later */ });
  }

  if (!list.children.length) { window.setTimeout(refresh, 3000); }  /* a fresh wall */
  window.setInterval(refresh, REFRESH);
})();
