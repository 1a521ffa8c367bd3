// Cheap websocket load generator for the fan-out benchmark (one of several processes).
//
// Opens --clients connections to --url (127.0.0.1 only) and, for every "tweet" message,
// finds the publish timestamp the benchmark embedded in the post text ("BENCHT0=<epoch
// ms>") with a byte search - no JSON parse - and adds now - t0 to a histogram.
// Commands on stdin, one per line; answers on stdout, one JSON object per line:
//   reset                 zero the counters
//   expect <n> <seconds>  wait until every open client has n tweets (or the time is up),
//                         then report the histogram and per-client completeness
//   quit                  close everything and exit
"use strict";
const WebSocket = require("ws");
const { performance } = require("perf_hooks");
const readline = require("readline");

// split at the first "=" only: a URL's query (?wall=slug) has its own
const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const i = a.indexOf("=");
  return [a.slice(0, i).replace(/^--/, ""), a.slice(i + 1)];
}));
const url = args.url;
const total = parseInt(args.clients, 10);
const deflate = args.deflate !== "0"; // browsers offer permessage-deflate; so do we by default
const parallel = parseInt(args.parallel || "100", 10);
if (!/^ws:\/\/127\.0\.0\.1:\d+\//.test(url)) { throw new Error("127.0.0.1 only: " + url); }

const MARK = Buffer.from("BENCHT0=");
const TWEET = Buffer.from('{"type":"tweet"');
const BUCKET_MS = 0.1, BUCKETS = 600000; // 0.1 ms resolution up to 60 s
let hist = new Uint32Array(BUCKETS);
let counts = new Uint32Array(total);
let received = 0, maxMs = 0, firstAt = 0, lastAt = 0, unmarked = 0;
const sockets = new Array(total);
let open = 0, failed = 0, closed = 0;
const now = () => performance.timeOrigin + performance.now();

function onMessage(index, data) {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (buf.compare(TWEET, 0, TWEET.length, 0, TWEET.length) !== 0) { return; }
  const at = now();
  counts[index]++;
  received++;
  if (!firstAt) { firstAt = at; }
  lastAt = at;
  const i = buf.indexOf(MARK);
  if (i < 0) { unmarked++; return; }
  let t0 = 0, j = i + MARK.length, scale = 0;
  for (; j < buf.length; j++) {
    const c = buf[j];
    if (c === 46) { scale = 1; continue; }
    if (c < 48 || c > 57) { break; }
    if (scale) { scale *= 10; t0 += (c - 48) / scale; } else { t0 = t0 * 10 + (c - 48); }
  }
  const ms = at - t0;
  if (ms > maxMs) { maxMs = ms; }
  hist[Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))]++;
}

function connectOne(index) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: deflate, handshakeTimeout: 60000 });
    let settled = false;
    const done = (ok) => { if (!settled) { settled = true; ok ? open++ : failed++; resolve(); } };
    ws.on("open", () => done(true));
    ws.on("message", (data) => onMessage(index, data));
    ws.on("error", () => done(false));
    ws.on("close", () => { if (settled) { closed++; } done(false); });
    sockets[index] = ws;
  });
}

async function connectAll() {
  let next = 0;
  async function worker() { while (next < total) { await connectOne(next++); } }
  await Promise.all(Array.from({ length: Math.min(parallel, total) }, worker));
  emit({ event: "connected", open, failed });
}

function emit(obj) { process.stdout.write(JSON.stringify(obj) + "\n"); }

function report(expected) {
  const sparse = [];
  for (let b = 0; b < BUCKETS; b++) { if (hist[b]) { sparse.push([b, hist[b]]); } }
  let complete = 0, minPer = Infinity, liveNow = 0;
  for (let k = 0; k < total; k++) {
    const ws = sockets[k];
    if (ws && ws.readyState === WebSocket.OPEN) { liveNow++; }
    if (counts[k] >= expected) { complete++; }
    if (counts[k] < minPer) { minPer = counts[k]; }
  }
  emit({ event: "result", received, unmarked, complete, min_per_client: minPer, open: liveNow,
         closed, bucket_ms: BUCKET_MS, hist: sparse, max_ms: maxMs, first_at: firstAt,
         last_at: lastAt });
}

function expect(expected, seconds) {
  const deadline = now() + seconds * 1000;
  const tick = () => {
    let done = true;
    for (let k = 0; k < total; k++) {
      const ws = sockets[k];
      if (ws && ws.readyState === WebSocket.OPEN && counts[k] < expected) { done = false; break; }
    }
    if (done || now() > deadline) { report(expected); } else { setTimeout(tick, 50); }
  };
  tick();
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, a, b] = line.trim().split(/\s+/);
  if (cmd === "reset") {
    hist = new Uint32Array(BUCKETS); counts = new Uint32Array(total);
    received = 0; maxMs = 0; firstAt = 0; lastAt = 0; unmarked = 0; closed = 0;
    emit({ event: "reset" });
  } else if (cmd === "expect") {
    expect(parseInt(a, 10), parseFloat(b));
  } else if (cmd === "quit") {
    for (const ws of sockets) { if (ws) { ws.terminate(); } }
    process.exit(0);
  }
});
connectAll();
