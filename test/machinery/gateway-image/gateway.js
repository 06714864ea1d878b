#!/usr/bin/env node
// Stand-in for the OpenClaw gateway (image openclaw-standin:test). Installed as
// /app/dist/index.js so that the same container definition works for the real image:
//   node dist/index.js gateway [--bind lan|loopback] [--port N]
//   node dist/index.js config set --batch-json '[{"path":"a.b","value":1}]'
//   node dist/index.js config set <path> <json-value>
//   node dist/index.js config get [<path>]
// HTTP + WebSocket on one port. No npm dependencies (it runs on a bare node binary).
'use strict';

const fs = require('fs');
const path = require('path');
const http = require('http');
const crypto = require('crypto');
const os = require('os');

const DEFAULT_PORT = 18789;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_BODY = 1024 * 1024;
const MAX_WS_PAYLOAD = 1024 * 1024;
const SECRET_KEY_RE = /(token|password|passwd|secret|apikey|api_key|credential|private)/i;

const home = () => process.env.HOME || os.homedir() || '/home/node';
const stateDir = () => process.env.OPENCLAW_STATE_DIR || path.join(home(), '.openclaw');
const configDir = () => path.join(home(), '.config', 'openclaw');
const configPath = () => process.env.OPENCLAW_CONFIG_PATH || path.join(stateDir(), 'openclaw.json');

// ---------------------------------------------------------------------------------------
// config file

function readConfig() {
  const p = configPath();
  let text;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return {};
    throw e;
  }
  if (text.trim() === '') return {};
  const parsed = JSON.parse(text);
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
}

function writeConfig(cfg) {
  const p = configPath();
  fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  const tmp = `${p}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, p);
}

function splitPath(dotted) {
  if (typeof dotted !== 'string' || dotted === '') throw new Error('config path must be a non-empty string');
  const parts = dotted.split('.');
  for (const k of parts) {
    if (k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype') {
      throw new Error(`invalid config path: ${dotted}`);
    }
  }
  return parts;
}

function setPath(obj, dotted, value) {
  const parts = splitPath(dotted);
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i];
    if (!cur[k] || typeof cur[k] !== 'object' || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k];
  }
  cur[parts[parts.length - 1]] = value;
}

function getPath(obj, dotted) {
  let cur = obj;
  for (const k of splitPath(dotted)) {
    if (!cur || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

// Values are JSON (the real CLI takes JSON5); anything that is not JSON is a plain string.
function parseValue(raw) {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function redact(value, key) {
  if (key !== undefined && SECRET_KEY_RE.test(key)) return '[redacted]';
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'env' ? redactEnvBlock(v) : redact(v, k);
    return out;
  }
  return value;
}

function redactEnvBlock(v) {
  if (!v || typeof v !== 'object') return '[redacted]';
  const out = {};
  for (const k of Object.keys(v)) out[k] = '[redacted]';
  return out;
}

function configCommand(args) {
  const sub = args[0];
  if (sub === 'set') {
    const rest = args.slice(1);
    const updates = [];
    const bi = rest.indexOf('--batch-json');
    if (bi !== -1) {
      const raw = rest[bi + 1];
      if (raw === undefined) throw new Error('--batch-json needs a value');
      let batch;
      try {
        batch = JSON.parse(raw);
      } catch (e) {
        throw new Error(`--batch-json is not valid JSON: ${e.message}`);
      }
      if (!Array.isArray(batch)) throw new Error('--batch-json must be a JSON array of {path, value}');
      for (const item of batch) {
        if (!item || typeof item !== 'object' || typeof item.path !== 'string' || !('value' in item)) {
          throw new Error('each --batch-json entry needs "path" (string) and "value"');
        }
        updates.push([item.path, item.value]);
      }
    } else {
      if (rest.length < 2) throw new Error('usage: config set <path> <value> | config set --batch-json <json>');
      updates.push([rest[0], parseValue(rest[1])]);
    }
    const cfg = readConfig();
    for (const [p, v] of updates) setPath(cfg, p, v);
    writeConfig(cfg);
    process.stdout.write(`config: ${updates.length} value(s) set in ${configPath()}\n`);
    return 0;
  }
  if (sub === 'get') {
    const cfg = readConfig();
    const v = args[1] ? getPath(cfg, args[1]) : cfg;
    if (v === undefined) {
      process.stderr.write(`config: ${args[1]} is not set\n`);
      return 1;
    }
    process.stdout.write(JSON.stringify(redact(v, args[1] && args[1].split('.').pop()), null, 2) + '\n');
    return 0;
  }
  if (sub === 'file') {
    process.stdout.write(configPath() + '\n');
    return 0;
  }
  throw new Error('usage: config {set|get|file} ...');
}

// ---------------------------------------------------------------------------------------
// gateway

function parseGatewayArgs(args) {
  const opts = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq !== -1 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const next = () => (inline !== undefined ? inline : args[++i]);
    if (flag === '--bind') opts.bind = next();
    else if (flag === '--port') opts.port = next();
    else if (flag === '--allow-unconfigured' || flag === '--verbose') opts[flag.slice(2)] = true;
    // Unknown flags are ignored, like a lenient CLI.
  }
  return opts;
}

function resolvePort(opts, cfg) {
  const candidates = [opts.port, process.env.OPENCLAW_GATEWAY_PORT, getPath(cfg, 'gateway.port'), DEFAULT_PORT];
  for (const c of candidates) {
    if (c === undefined || c === null || c === '') continue;
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid port: ${c}`);
    return n;
  }
  return DEFAULT_PORT;
}

function trustedProxies(cfg) {
  const t = getPath(cfg, 'gateway.trustedProxies');
  return Array.isArray(t) ? t.filter((x) => typeof x === 'string') : [];
}

// Exact-address match; an IPv4-mapped IPv6 remote (::ffff:a.b.c.d) also matches a.b.c.d.
function isTrusted(remote, list) {
  if (!remote) return false;
  const plain = remote.startsWith('::ffff:') ? remote.slice(7) : remote;
  return list.includes(remote) || list.includes(plain);
}

function safeHeaders(req) {
  const out = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k === 'authorization' || k === 'proxy-authorization' || k === 'cookie') out[k] = '[redacted]';
    else out[k] = v;
  }
  return out;
}

function bearerMatches(req) {
  const expected = process.env.OPENCLAW_GATEWAY_TOKEN;
  const h = req.headers.authorization || '';
  const m = /^Bearer\s+(.+)$/i.exec(h);
  if (!expected || !m) return false;
  const a = crypto.createHash('sha256').update(m[1]).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

function logLine(obj) {
  const line = JSON.stringify({ t: new Date().toISOString(), ...obj });
  process.stdout.write(line + '\n');
  // Like the real gateway, keep rolling logs under /tmp/openclaw (a tmpfs here); best effort.
  try {
    fs.mkdirSync('/tmp/openclaw', { recursive: true });
    fs.appendFileSync('/tmp/openclaw/standin.log', line + '\n');
  } catch {
    /* ignore */
  }
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function validName(name) {
  return typeof name === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(name) && name !== '.' && name !== '..';
}

function tryWrite(file, data, mkdir = true) {
  try {
    if (mkdir) fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    return { path: file, ok: true };
  } catch (e) {
    return { path: file, ok: false, code: e.code || null, error: e.message };
  }
}

function tryRead(file) {
  try {
    return { path: file, ok: true, content: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { path: file, ok: false, code: e.code || null, content: null };
  }
}

function whoami(req, socket, cfg) {
  const remoteAddress = socket.remoteAddress;
  const list = trustedProxies(cfg);
  return {
    remoteAddress,
    remoteFamily: socket.remoteFamily,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    trusted: isTrusted(remoteAddress, list),
    trustedProxies: list,
    authorizationPresent: Boolean(req.headers.authorization),
    tokenValid: bearerMatches(req),
    method: req.method,
    url: req.url,
    headers: safeHeaders(req),
    uid: typeof process.getuid === 'function' ? process.getuid() : null,
    gid: typeof process.getgid === 'function' ? process.getgid() : null,
    hostname: os.hostname(),
  };
}

async function handle(req, res, ctx) {
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname;
  const cfg = (() => {
    try {
      return readConfig();
    } catch {
      return {};
    }
  })();
  const get = req.method === 'GET' || req.method === 'HEAD';

  if (get && (p === '/healthz' || p === '/health')) return sendJson(res, 200, { ok: true, status: 'live' });
  if (get && p === '/readyz') return sendJson(res, 200, { ok: true, status: 'ready' });

  if (get && p === '/__standin/whoami') return sendJson(res, 200, whoami(req, req.socket, cfg));
  if (get && p === '/__standin/config') {
    return sendJson(res, 200, { path: configPath(), config: redact(cfg) });
  }
  if (get && p === '/__standin/env-names') return sendJson(res, 200, { names: Object.keys(process.env).sort() });
  if (get && p === '/__standin/info') {
    return sendJson(res, 200, {
      pid: process.pid,
      argv: process.argv.slice(2),
      bind: ctx.bind,
      listen: ctx.listen,
      port: ctx.port,
      uid: process.getuid(),
      gid: process.getgid(),
      uptimeSeconds: process.uptime(),
      rss: process.memoryUsage().rss,
      node: process.version,
      stateDir: stateDir(),
      configDir: configDir(),
    });
  }
  // Emulates the gateway's proxy/auth gate: a bearer token is required, and a request that
  // carries X-Forwarded-For must come from a trusted proxy.
  if (get && p === '/__standin/protected') {
    const forwarded = req.headers['x-forwarded-for'] !== undefined;
    if (forwarded && !isTrusted(req.socket.remoteAddress, trustedProxies(cfg))) {
      return sendJson(res, 403, { ok: false, error: 'proxy_attribution_required' });
    }
    if (!bearerMatches(req)) return sendJson(res, 401, { ok: false, error: 'unauthorized' });
    return sendJson(res, 200, { ok: true });
  }
  if (p === '/__standin/write' && req.method === 'POST') {
    const name = url.searchParams.get('name');
    if (!validName(name)) return sendJson(res, 400, { ok: false, error: 'invalid name' });
    const body = await readBody(req);
    const results = [tryWrite(path.join(stateDir(), name), body), tryWrite(path.join(configDir(), name), body)];
    return sendJson(res, results.every((r) => r.ok) ? 200 : 500, { ok: results.every((r) => r.ok), results });
  }
  if (get && p === '/__standin/read') {
    const name = url.searchParams.get('name');
    if (!validName(name)) return sendJson(res, 400, { ok: false, error: 'invalid name' });
    return sendJson(res, 200, {
      state: tryRead(path.join(stateDir(), name)),
      config: tryRead(path.join(configDir(), name)),
    });
  }
  if (p === '/__standin/write-root' && req.method === 'POST') {
    await readBody(req);
    const stamp = `probe ${new Date().toISOString()}\n`;
    // Meant for the container only: never create directories here, and clean up if a write
    // unexpectedly succeeds (e.g. when run on a host by mistake).
    const results = ['/app/probe', '/etc/probe'].map((f) => {
      const r = tryWrite(f, stamp, false);
      if (r.ok) fs.rmSync(f, { force: true });
      return r;
    });
    return sendJson(res, 200, { results, readOnly: results.every((r) => !r.ok && r.code === 'EROFS') });
  }
  return sendJson(res, 404, { ok: false, error: 'not_found', path: p });
}

// ---- WebSocket (RFC 6455, by hand) ----

function wsFrame(opcode, payload) {
  const len = payload.length;
  let header;
  if (len < 126) {
    header = Buffer.alloc(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  header[0] = 0x80 | opcode;
  return Buffer.concat([header, payload]);
}

function handleUpgrade(req, socket, head, ctx) {
  const key = req.headers['sec-websocket-key'];
  const upgrade = (req.headers.upgrade || '').toLowerCase();
  if (upgrade !== 'websocket' || typeof key !== 'string' || key.trim() === '') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(key.trim() + WS_GUID).digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  socket.setNoDelay(true);
  const cfg = (() => {
    try {
      return readConfig();
    } catch {
      return {};
    }
  })();
  logLine({ ws: 'open', path: req.url, remote: socket.remoteAddress });

  let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  let fragments = null; // {opcode, parts}
  let closed = false;

  const close = (code) => {
    if (closed) return;
    closed = true;
    const b = Buffer.alloc(2);
    b.writeUInt16BE(code, 0);
    try {
      socket.end(wsFrame(0x8, b));
    } catch {
      socket.destroy();
    }
  };

  const onMessage = (opcode, payload) => {
    if (opcode === 0x1 && payload.toString('utf8') === '__standin:whoami') {
      socket.write(wsFrame(0x1, Buffer.from(JSON.stringify(whoami(req, socket, cfg)))));
      return;
    }
    socket.write(wsFrame(opcode, payload)); // echo text (1) or binary (2)
  };

  const parse = () => {
    while (!closed) {
      if (buf.length < 2) return;
      const b0 = buf[0];
      const b1 = buf[1];
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(MAX_WS_PAYLOAD)) return close(1009);
        len = Number(big);
        off = 10;
      }
      if (len > MAX_WS_PAYLOAD) return close(1009);
      if (!masked) return close(1002); // clients must mask
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      buf = buf.subarray(off + 4 + len);

      if (opcode === 0x8) {
        // echo the close code (if any) and finish
        if (!closed) {
          closed = true;
          socket.end(wsFrame(0x8, payload.subarray(0, Math.min(payload.length, 2))));
        }
        return;
      }
      if (opcode === 0x9) {
        socket.write(wsFrame(0xa, payload));
        continue;
      }
      if (opcode === 0xa) continue;
      if (opcode === 0x0) {
        if (!fragments) return close(1002);
        fragments.parts.push(payload);
        if (fin) {
          const whole = Buffer.concat(fragments.parts);
          const op = fragments.opcode;
          fragments = null;
          onMessage(op, whole);
        }
        continue;
      }
      if (opcode === 0x1 || opcode === 0x2) {
        if (fin) onMessage(opcode, payload);
        else fragments = { opcode, parts: [payload] };
        continue;
      }
      return close(1002);
    }
  };

  socket.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    if (buf.length > MAX_WS_PAYLOAD + 16) return close(1009);
    parse();
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => logLine({ ws: 'close', remote: socket.remoteAddress }));
  ctx.sockets.add(socket);
  socket.on('close', () => ctx.sockets.delete(socket));
  if (buf.length) parse();
}

function listenOn(server, port, host) {
  return new Promise((resolve, reject) => {
    const onErr = (e) => {
      server.off('listening', onOk);
      reject(e);
    };
    const onOk = () => {
      server.off('error', onErr);
      resolve();
    };
    server.once('error', onErr);
    server.once('listening', onOk);
    server.listen({ port, host, ipv6Only: false });
  });
}

async function gatewayCommand(args) {
  const opts = parseGatewayArgs(args);
  let cfg = {};
  try {
    cfg = readConfig();
  } catch (e) {
    process.stderr.write(`warning: cannot read ${configPath()}: ${e.message}\n`);
  }
  const bind = opts.bind || getPath(cfg, 'gateway.bind') || 'loopback';
  const port = resolvePort(opts, cfg);
  const ctx = { bind, port, listen: null, sockets: new Set() };

  const server = http.createServer((req, res) => {
    const started = Date.now();
    res.on('finish', () =>
      logLine({ method: req.method, path: req.url.split('?')[0], status: res.statusCode, remote: req.socket.remoteAddress, ms: Date.now() - started }),
    );
    handle(req, res, ctx).catch((e) => {
      if (!res.headersSent) sendJson(res, e.status || 500, { ok: false, error: e.message });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    ctx.sockets.add(s);
    s.on('close', () => ctx.sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head, ctx));

  let hosts;
  if (bind === 'loopback') hosts = ['127.0.0.1'];
  else if (bind === 'lan' || bind === 'auto' || bind === 'custom' || bind === 'tailnet') hosts = ['::', '0.0.0.0'];
  else throw new Error(`unknown --bind mode: ${bind} (use lan or loopback)`);

  let lastErr;
  for (const h of hosts) {
    try {
      await listenOn(server, port, h);
      ctx.listen = h;
      break;
    } catch (e) {
      lastErr = e;
      // '::' fails with EAFNOSUPPORT/EADDRNOTAVAIL when IPv6 is off: fall back to 0.0.0.0
      if (!['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EINVAL'].includes(e.code)) break;
    }
  }
  if (ctx.listen === null) throw lastErr;
  logLine({ msg: 'gateway listening', bind, host: ctx.listen, port, pid: process.pid, uid: process.getuid() });

  let stopping = false;
  const stop = (sig) => {
    if (stopping) return;
    stopping = true;
    logLine({ msg: 'shutting down', signal: sig });
    server.close(() => process.exit(0));
    for (const s of ctx.sockets) s.destroy();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return new Promise(() => {}); // run until signalled
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === 'gateway' || cmd === undefined) return gatewayCommand(cmd === undefined ? [] : rest);
  if (cmd === 'config') return configCommand(rest);
  if (cmd === '--version' || cmd === 'version') {
    process.stdout.write('openclaw-standin 0.0.0\n');
    return 0;
  }
  if (cmd === 'health') {
    const port = resolvePort(parseGatewayArgs(rest), readConfig());
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    const j = await r.json();
    process.stdout.write(JSON.stringify(j) + '\n');
    return j && j.ok === true ? 0 : 1;
  }
  throw new Error(`unknown command: ${cmd} (expected gateway | config | health)`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  },
);
