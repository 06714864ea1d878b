#!/usr/bin/env node
// @ts-check
/**
 * The Docker provider's ssh ProxyCommand (core/dockerHost.ts providerSshOpts): at most SLOTS direct
 * ssh connections to one server at a time from this machine; the rest wait their turn instead of
 * being dropped.
 *
 * Why: under `pulumi up` at Pulumi's default (unbounded) parallelism, a first `up` of many tenants
 * starts hundreds of `ssh ... docker system dial-stdio` at once. The shared connection
 * (ControlMaster) carries only the server's MaxSessions (10) of them; the rest fall back to
 * connections of their own, and a stock sshd drops unauthenticated connections past MaxStartups
 * (10:30:100): "kex_exchange_identification: Connection closed by remote host", a failed Docker
 * call. Waiting here keeps the number of handshakes in flight below that limit.
 *
 * Plain JavaScript on purpose: ssh starts it once per connection, and ts-node's start would cost a
 * second each time. A slot is a unix socket this process listens on for as long as its connection
 * lives: the kernel stops listening when the process dies, however it dies, and a socket file left
 * behind refuses connections and is cleared (see clearIfLeftBehind).
 *
 * usage: sshGate.js SLOTS WAIT_SECONDS HOST PORT   (ssh gives HOST and PORT as %h %p)
 * WAIT_SECONDS bounds the whole wait: for a slot, then retries of a connection the server closes
 * before its banner.
 */
"use strict";
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const crypto = require("crypto");

const [slotsText, waitText, host, portText] = process.argv.slice(2);
const slots = Number(slotsText);
const waitSeconds = Number(waitText);
const port = Number(portText);
if (!Number.isInteger(slots) || slots < 1 || !Number.isFinite(waitSeconds) || waitSeconds <= 0 || !host || !Number.isInteger(port)) {
  process.stderr.write("usage: sshGate.js SLOTS WAIT_SECONDS HOST PORT\n");
  process.exit(2);
}

// Beside the provider's ControlPath sockets: ~/.ssh/openclaw-mux (0700, made by the program).
// One folder per server; a hash keeps the socket path under the kernel's 108-byte limit.
const home = process.env.OPENCLAW_SSH_GATE_HOME || os.userInfo().homedir;
const dir = path.join(home, ".ssh", "openclaw-mux", `gate-${crypto.createHash("sha256").update(`${host}:${port}`).digest("hex").slice(0, 16)}`);
fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** How a connection to a slot's socket ends: "live" (someone holds it), "refused" or "gone". */
function probe(file) {
  return new Promise((resolve) => {
    const c = net.connect(file);
    c.once("connect", () => { c.destroy(); resolve("live"); });
    c.once("error", (err) => resolve(/** @type {NodeJS.ErrnoException} */ (err).code === "ECONNREFUSED" ? "refused" : "gone"));
  });
}

function inode(file) {
  try { return fs.statSync(file).ino; } catch { return null; }
}

/**
 * A socket file that nobody listens on was left by a process that died without closing it. Taken
 * away only when it refuses twice, 300 ms apart, and is still the same file: a new holder between
 * its bind and its listen also refuses, for a moment.
 */
async function clearIfLeftBehind(file) {
  const first = inode(file);
  if (first === null || (await probe(file)) !== "refused") return;
  await sleep(300);
  if ((await probe(file)) === "refused" && inode(file) === first) {
    try { fs.unlinkSync(file); } catch { /* another waiter cleared it first */ }
  }
}

/** The slot this process holds, cleared when it exits however it exits (Node unlinks it on close()). */
let heldFile = null;
let heldInode = null;
process.on("exit", () => {
  if (heldFile !== null && inode(heldFile) === heldInode) {
    try { fs.unlinkSync(heldFile); } catch { /* already gone */ }
  }
});

/** Listens on slot `i`'s socket; resolves to the server holding it, or null when it is taken. */
function take(i) {
  const file = path.join(dir, `slot-${i}.sock`);
  return new Promise((resolve) => {
    const holder = net.createServer((c) => c.destroy());
    holder.once("error", (err) => {
      if (/** @type {NodeJS.ErrnoException} */ (err).code === "EADDRINUSE") void clearIfLeftBehind(file).then(() => resolve(null));
      else resolve(null);
    });
    holder.listen(file, () => {
      heldFile = file;
      heldInode = inode(file);
      resolve(holder);
    });
  });
}

/** One bound for the whole wait (a slot, then a server that speaks): ssh's ConnectTimeout is above it. */
const deadline = Date.now() + waitSeconds * 1000;

async function acquire() {
  const start = Math.floor(Math.random() * slots); // spread the waiters over the slots
  for (;;) {
    for (let k = 0; k < slots; k++) {
      const held = await take((start + k) % slots);
      if (held !== null) return held;
    }
    if (Date.now() > deadline) {
      process.stderr.write(`openclaw ssh gate: waited ${waitSeconds} s for one of ${slots} connection slots to ${host}:${port}; another run may be holding them\n`);
      process.exit(255);
    }
    await sleep(50 + Math.random() * 150);
  }
}

/**
 * A connection on which the server has spoken. A stock sshd under load (past MaxStartups) accepts
 * and then closes a connection before its banner; that is retried here, unseen by ssh, instead of
 * failing the Docker call. Resolves with the socket and the server's first bytes.
 */
async function connectSpoken() {
  let delay = 200;
  for (let attempt = 1; ; attempt++) {
    const outcome = await new Promise((resolve) => {
      const socket = net.connect({ host, port, allowHalfOpen: true });
      const closed = () => { socket.destroy(); resolve({ error: "closed before its banner" }); };
      socket.once("data", (first) => {
        socket.pause();
        for (const event of ["end", "close", "error"]) socket.removeAllListeners(event);
        resolve({ socket, first });
      });
      socket.once("error", (err) => { socket.destroy(); resolve({ error: err.message }); });
      // Half-open sockets see the server's close as "end" only.
      socket.once("end", closed);
      socket.once("close", closed);
    });
    if ("socket" in outcome) return outcome;
    if (Date.now() + delay > deadline) {
      process.stderr.write(`openclaw ssh gate: ${host}:${port}: ${outcome.error} (${attempt} attempts)\n`);
      process.exit(255);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 5000);
  }
}

acquire().then(async (held) => {
  const { socket, first } = await connectSpoken();
  socket.once("error", (err) => {
    process.stderr.write(`openclaw ssh gate: ${host}:${port}: ${err.message}\n`);
    process.exit(255);
  });
  process.stdout.write(first);
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  socket.resume();
  // The connection is over when the server closes it; ssh closing our stdin half-closes it.
  socket.once("close", () => {
    heldFile = null; // close() unlinks it; a later file at that path is another holder's
    held.close();
    process.stdout.write("", () => process.exit(0)); // after what the server said is written out
  });
});
