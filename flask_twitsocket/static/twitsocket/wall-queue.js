/* The projector's display queue: posts wait here until the wall may move (wall-pacer.js).
 *
 * No DOM, so its rules are plain to read: new posts leave in arrival order; a queue beyond
 * its cap drops its oldest and counts them as skipped (the screen says how many), so a
 * burst after a laptop's sleep shows the newest, not a backlog from an hour ago; earlier
 * posts re-shown by the shuffle wait in their own line and are dropped the moment a new
 * post arrives; a delete or hide takes a post out at once. Bounded in every case.
 */
(function () {
  "use strict";

  function key(post) { return String(post.network) + ":" + String(post.id); }

  function DisplayQueue(cap) {
    this.cap = Math.max(1, cap || 100);
    this.fresh = [];
    this.earlier = [];
    this.skipped = 0;
  }

  DisplayQueue.key = key;

  DisplayQueue.prototype.has = function (post) {
    var wanted = key(post);
    return this.fresh.concat(this.earlier).some(function (p) { return key(p) === wanted; });
  };

  /* A new post: queued (once); the shuffle gives way to it. */
  DisplayQueue.prototype.push = function (post) {
    this.earlier = [];
    if (this.has(post)) { return; }
    this.fresh.push(post);
    while (this.fresh.length > this.cap) { this.fresh.shift(); this.skipped += 1; }
  };

  /* Earlier posts for the shuffle; ignored while new ones wait. */
  DisplayQueue.prototype.pushEarlier = function (posts) {
    if (this.fresh.length) { return; }
    var self = this;
    posts.forEach(function (post) {
      if (!self.has(post) && self.earlier.length < self.cap) { self.earlier.push(post); }
    });
  };

  /* The next post to show, or null; `.earlier` is true for a re-shown one. */
  DisplayQueue.prototype.next = function () {
    if (this.fresh.length) { return { post: this.fresh.shift(), earlier: false }; }
    if (this.earlier.length) { return { post: this.earlier.shift(), earlier: true }; }
    return null;
  };

  DisplayQueue.prototype.peek = function (count) {
    return this.fresh.concat(this.earlier).slice(0, count);
  };

  DisplayQueue.prototype.remove = function (network, id) {
    function keep(post) {
      return !(String(post.id) === String(id) && (!network || String(post.network) === network));
    }
    this.fresh = this.fresh.filter(keep);
    this.earlier = this.earlier.filter(keep);
  };

  DisplayQueue.prototype.waiting = function () { return this.fresh.length; };
  DisplayQueue.prototype.empty = function () { return !this.fresh.length && !this.earlier.length; };

  window.TwitsocketWallQueue = DisplayQueue;
})();
