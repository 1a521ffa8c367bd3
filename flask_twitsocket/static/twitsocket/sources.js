/* flask-twitsocket console: the stream's sources at a glance.
 *
 * Reads <prefix>/health every 15 s (the stream process saves each source's status to the
 * database; any worker answers) and shows one chip per source: its state, how long ago
 * its last post came, and its last error as the chip's title. textContent only.
 */
(function () {
  "use strict";

  var list = document.querySelector("[data-sources]");
  if (!list) { return; }
  var url = list.getAttribute("data-health-url");

  function ago(seconds) {
    if (seconds === null || seconds === undefined) { return "no post yet"; }
    if (seconds < 90) { return Math.round(seconds) + " s ago"; }
    if (seconds < 5400) { return Math.round(seconds / 60) + " min ago"; }
    return Math.round(seconds / 3600) + " h ago";
  }

  function chip(source) {
    var item = document.createElement("li");
    var state = source.silent ? "silent" : source.state;
    item.className = "source";
    item.setAttribute("data-source", source.name);
    item.setAttribute("data-state", state);
    item.textContent = source.name + ": " + state + " · " + ago(source.last_event_age);
    if (source.last_error) {
      item.title = source.last_error + (source.last_error_at ? " (" + source.last_error_at + ")" : "");
    }
    return item;
  }

  function show(body) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    (body.sources || []).forEach(function (source) { list.appendChild(chip(source)); });
    list.setAttribute("data-status", body.status || "");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(show)
      .catch(function () { /* the next poll tries again */ });
  }

  poll();
  window.setInterval(poll, 15000);
})();
