// The benchmark's HTTP load generator: `concurrency` raw keep-alive sockets to 127.0.0.1 over a
// fixed list of requests (ADR 0048). Python drives it (yaji/bench/drive.py): the plan comes as
// JSON on stdin, progress goes to stderr as "+N" lines, the outcomes to stdout as one JSON array
// index-aligned with the calls ([status, latency_s, body_base64, error] or null: never started).
//
// Why not Node's own http module: on this machine it costs ~3x the CPU per request of a bare
// socket, and the client shares two cores with the server it measures. The parser here only has
// to understand our own server (gunicorn): a status line, headers, then a body framed by
// Content-Length or chunked encoding; "Connection: close" (gunicorn's sync workers) reconnects.
"use strict";

const net = require("net");

const HOST = "127.0.0.1"; // load tests never leave this machine
const REQUEST_TIMEOUT_MS = 60000;
const PROGRESS_EVERY_MS = 100;

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (d) => chunks.push(d));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function encodeRequest(call) {
  const body = Buffer.from(call.body_b64 || "", "base64");
  let head = `${call.method} ${call.path} HTTP/1.1\r\nHost: ${HOST}\r\n`;
  for (const [name, value] of Object.entries(call.headers || {})) {
    head += `${name}: ${value}\r\n`;
  }
  if (body.length || call.method !== "GET") head += `Content-Length: ${body.length}\r\n`;
  return Buffer.concat([Buffer.from(head + "\r\n", "latin1"), body]);
}

// One parsed response from the front of `buf`, or null if it is not complete yet.
function parseResponse(buf) {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const head = buf.toString("latin1", 0, headEnd);
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const close = /\r\nconnection:\s*close/.test(lower);
  let start = headEnd + 4;
  if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) {
    const parts = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", start);
      if (lineEnd < 0) return null;
      const size = parseInt(buf.toString("latin1", start, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error("bad chunk size");
      const dataStart = lineEnd + 2;
      if (buf.length < dataStart + size + 2) return null;
      if (size === 0) {
        // no trailers from gunicorn: the terminating CRLF follows the zero-size chunk
        return { status, close, body: Buffer.concat(parts), rest: buf.subarray(dataStart + 2) };
      }
      parts.push(buf.subarray(dataStart, dataStart + size));
      start = dataStart + size + 2;
    }
  }
  const match = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  const length = match ? Number(match[1]) : 0;
  if (buf.length < start + length) return null;
  return { status, close, body: buf.subarray(start, start + length), rest: buf.subarray(start + length) };
}

async function main() {
  const plan = JSON.parse(await readStdin());
  const calls = plan.calls;
  const count = calls.length;
  const encoded = calls.map(encodeRequest);
  const outcomes = new Array(count).fill(null);
  const concurrency = Math.max(1, Math.min(plan.concurrency, count || 1));
  let next = 0;
  let done = 0;
  let reported = 0;
  let startedAt = 0n;
  let finishedLanes = 0;

  const elapsedS = () => Number(process.hrtime.bigint() - startedAt) / 1e9;
  const take = () => {
    if (next >= count || elapsedS() > plan.deadline_s) return -1;
    return next++;
  };
  const record = (index, outcome) => {
    outcomes[index] = outcome;
    done += 1;
  };

  const progress = setInterval(() => {
    if (done > reported) {
      process.stderr.write(`+${done - reported}\n`);
      reported = done;
    }
  }, PROGRESS_EVERY_MS);

  function finish() {
    clearInterval(progress);
    if (done > reported) process.stderr.write(`+${done - reported}\n`);
    const wall = elapsedS();
    process.stdout.write(JSON.stringify({ wall_s: wall, outcomes }), () => process.exit(0));
  }

  // A lane is one client: one request at a time on its socket, reconnecting when the server
  // closes it. A request whose socket drops before any byte of the answer is retried once on a
  // fresh connection (every driven POST is idempotent, as in the Python driver).
  function lane(ready) {
    let sock = null;
    let buf = Buffer.alloc(0);
    let index = -1;
    let sentAt = 0n;
    let attempt = 0;
    let timer = null;
    let connected = false;
    let isReady = false;

    // Ready once connected — or once the first connect failed: the first request then retries
    // (and reports the failure) like any other.
    const becomeReady = () => {
      if (!isReady) {
        isReady = true;
        ready(sendNext);
      }
    };

    const laneDone = () => {
      if (sock) sock.destroy();
      finishedLanes += 1;
      if (finishedLanes === concurrency) finish();
    };
    const fail = (error) => {
      clearTimeout(timer);
      const latency = Number(process.hrtime.bigint() - sentAt) / 1e9;
      record(index, [0, latency, "", error]);
      index = -1;
      dropSocket();
      sendNext();
    };
    const dropSocket = () => {
      if (sock) {
        sock.removeAllListeners();
        sock.on("error", () => {});
        sock.destroy();
      }
      sock = null;
      connected = false;
      buf = Buffer.alloc(0);
    };
    const open = (onConnect) => {
      sock = net.connect(plan.port, HOST);
      sock.setNoDelay(true);
      sock.on("connect", () => {
        connected = true;
        onConnect();
      });
      sock.on("data", onData);
      sock.on("error", (err) => onDrop(err.code || "socket_error"));
      sock.on("close", () => onDrop("RemoteDisconnected"));
    };
    const write = () => {
      timer = setTimeout(() => fail("timeout"), REQUEST_TIMEOUT_MS);
      sock.write(encoded[index]);
    };
    const sendNext = () => {
      index = take();
      if (index < 0) {
        laneDone();
        return;
      }
      attempt = 1;
      sentAt = process.hrtime.bigint();
      if (sock && connected) write();
      else open(write);
    };
    function onDrop(error) {
      if (index < 0) {
        dropSocket(); // an idle keep-alive socket closed by the server: reconnect on demand
        becomeReady();
        return;
      }
      clearTimeout(timer);
      if (buf.length === 0 && attempt === 1) {
        attempt = 2;
        dropSocket();
        open(write);
        return;
      }
      fail(error);
    }
    function onData(chunk) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (index < 0) return;
      let response;
      try {
        response = parseResponse(buf);
      } catch (err) {
        fail("BadStatusLine");
        return;
      }
      if (response === null) return;
      clearTimeout(timer);
      const latency = Number(process.hrtime.bigint() - sentAt) / 1e9;
      record(index, [response.status, latency, response.body.toString("base64"), ""]);
      index = -1;
      buf = response.rest;
      if (response.close) dropSocket();
      sendNext();
    }

    // Connect before the start, like the Python driver's sessions opened before its barrier.
    open(becomeReady);
  }

  if (count === 0) {
    startedAt = process.hrtime.bigint();
    finishedLanes = concurrency - 1;
    finish();
    return;
  }
  const starters = [];
  let readyLanes = 0;
  for (let i = 0; i < concurrency; i += 1) {
    lane((start) => {
      starters.push(start);
      readyLanes += 1;
      if (readyLanes === concurrency) {
        startedAt = process.hrtime.bigint();
        for (const go of starters) go();
      }
    });
  }
}

main().catch((err) => {
  process.stderr.write(`error: ${err.stack || err}\n`);
  process.exit(2);
});
