// Unit tests of clients/js/pushconsole-client.js under Node (Debian's nodejs,
// no npm packages): the backoff math, the close-code policy, token expiry,
// and the reconnect state machine driven through a fake WebSocket.
// The real thing (headless Chromium against the real gateway) is
// tst_jsclient.cpp. Run: node tests/clients/jsclient.test.mjs
import assert from "node:assert/strict";

// The page events the client listens to, before the module is loaded.
const windowEvents = new EventTarget();
globalThis.addEventListener = windowEvents.addEventListener.bind(windowEvents);
globalThis.removeEventListener = windowEvents.removeEventListener.bind(windowEvents);
const documentEvents = new EventTarget();
globalThis.document = {
    visibilityState: "visible",
    addEventListener: documentEvents.addEventListener.bind(documentEvents),
    removeEventListener: documentEvents.removeEventListener.bind(documentEvents),
};

const {
    connect,
    reconnectDelay,
    closeAction,
    tokenExpiry,
    TOKEN_REFUSALS,
    DEFAULTS,
} = await import(new URL("../../clients/js/pushconsole-client.js", import.meta.url));

class FakeWebSocket {
    static all = [];
    constructor(url) {
        this.url = url;
        this.sent = [];
        this.readyState = 0;
        this.closedWith = undefined;
        FakeWebSocket.all.push(this);
    }
    send(data) {
        this.sent.push(data);
    }
    close(code) {
        this.readyState = 3;
        this.closedWith = code ?? 1005;
    }
    // What the network does:
    open() {
        this.readyState = 1;
        this.onopen?.({});
    }
    receive(text) {
        this.onmessage?.({ data: text });
    }
    drop(code, reason = "") {
        this.readyState = 3;
        this.onclose?.({ code, reason });
    }
}

const URL_ = "ws://127.0.0.1:8013/";
const FAST = { WebSocket: FakeWebSocket, minReconnectDelay: 1, maxReconnectDelay: 4 };

function waitUntil(predicate, what, timeoutMs = 2000) {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
            const value = predicate();
            if (value)
                resolve(value);
            else if (Date.now() - started > timeoutMs)
                reject(new Error(`timed out waiting for ${what}`));
            else
                setTimeout(poll, 1);
        };
        poll();
    });
}

// Records every state event of a client.
function record(client) {
    const states = [];
    const messages = [];
    client.on("state", (e) => states.push(e));
    client.on("message", (e) => messages.push(e));
    const next = (state, from = 0) =>
        waitUntil(() => states.slice(from).find((e) => e.state === state), `state ${state}`);
    return { states, messages, next };
}

function socketCount() {
    return FakeWebSocket.all.length;
}

async function newSocket(before) {
    return waitUntil(() => FakeWebSocket.all[before], `socket #${before + 1}`);
}

function jwt(claims) {
    const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.c2ln`;
}

// A client that stopped for good has nothing pending: no timer, no socket.
function assertStopped(client) {
    assert.equal(client.state, "closed");
    assert.equal(client._timer, 0);
    assert.equal(client._keepAlive, 0);
    assert.equal(client._ws, null);
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("backoff: full jitter within [0, min * 2^attempt), capped", () => {
    assert.equal(reconnectDelay(0, 1000, 30000, () => 0), 0);
    assert.equal(reconnectDelay(0, 1000, 30000, () => 0.999999), 999);
    assert.equal(reconnectDelay(1, 1000, 30000, () => 0.999999), 1999);
    assert.equal(reconnectDelay(3, 1000, 30000, () => 0.5), 4000);
    assert.equal(reconnectDelay(4, 1000, 30000, () => 0.999999), 15999);
    for (const attempt of [5, 6, 10, 31, 60, 1000, Infinity])
        assert.equal(reconnectDelay(attempt, 1000, 30000, () => 0.999999), 29999);
    assert.equal(reconnectDelay(-1, 1000, 30000, () => 0.5), 500);
    // Uniform: the mean of many draws is about half the window.
    let sum = 0;
    const n = 20000;
    for (let i = 0; i < n; ++i) {
        const d = reconnectDelay(2, 500, 30000);
        assert.ok(d >= 0 && d < 2000, `delay ${d}`);
        sum += d;
    }
    assert.ok(Math.abs(sum / n - 1000) < 50, `mean ${sum / n}`);
    assert.deepEqual(
        [DEFAULTS.minReconnectDelay, DEFAULTS.maxReconnectDelay], [1000, 30000]);
});

test("close codes: which heal", () => {
    const uid = { tokenMode: false, canRefresh: false };
    const token = { tokenMode: true, canRefresh: false };
    const getToken = { tokenMode: true, canRefresh: true };
    for (const code of [1000, 1001, 1002, 1006, 1007, 1009, 1011, 1012, 1013, 4000, 4002]) {
        for (const mode of [uid, token, getToken])
            assert.equal(closeAction(code, "", mode), "reconnect", `code ${code}`);
    }
    for (const mode of [uid, token, getToken]) {
        assert.equal(closeAction(4001, "too many connections for this uid", mode), "stop");
        assert.equal(closeAction(1008, "invalid uid", mode), "stop");
        assert.equal(closeAction(1008, "disconnected by operator", mode), "stop");
        assert.equal(closeAction(1008, "bind timeout", mode), "reconnect");
    }
    for (const reason of TOKEN_REFUSALS) {
        assert.equal(closeAction(1008, reason, getToken), "refresh", reason);
        assert.equal(closeAction(1008, reason, token), "stop", reason);
        assert.equal(closeAction(1008, reason, uid), "stop", reason);
    }
    assert.equal(closeAction(1008, "some future reason", getToken), "refresh");
    assert.equal(closeAction(1008, "some future reason", uid), "stop");
    assert.equal(TOKEN_REFUSALS.length, 11);
});

test("token expiry is read from the JWT's exp", () => {
    assert.equal(tokenExpiry(jwt({ sub: "1", exp: 1700000000 })), 1700000000000);
    assert.equal(tokenExpiry(jwt({ sub: "1" })), undefined);
    assert.equal(tokenExpiry(jwt({ sub: "1", exp: "soon" })), undefined);
    assert.equal(tokenExpiry("opaque"), undefined);
    assert.equal(tokenExpiry("a.!!!.b"), undefined);
});

test("bad arguments throw at once", () => {
    const W = { WebSocket: FakeWebSocket };
    assert.throws(() => connect("http://x/", { uid: "1", ...W }), TypeError);
    assert.throws(() => connect("not a url", { uid: "1", ...W }), TypeError);
    assert.throws(() => connect(URL_, { ...W }), TypeError);
    assert.throws(() => connect(URL_, { uid: "1", token: "t", ...W }), TypeError);
    assert.throws(() => connect(URL_, { uid: "a b", ...W }), TypeError);
    assert.throws(() => connect(URL_, { uid: "x".repeat(65), ...W }), TypeError);
    assert.throws(() => connect(URL_, { token: "", ...W }), TypeError);
    assert.throws(() => connect(URL_, { getToken: "t", ...W }), TypeError);
    assert.throws(() => connect(URL_, { uid: "1", minReconnectDelay: -1, ...W }), TypeError);
    assert.throws(() => connect(URL_, { uid: "1", minReconnectDelay: 0, ...W }), TypeError);
    assert.throws(() => connect(URL_, { uid: "1", keepAliveInterval: NaN, ...W }), TypeError);
    assert.throws(() => connect(URL_, { uid: "1" }), /WebSocket/); // Node < 22 has none
    assert.equal(socketCount(), 0);
});

test("binds with the uid, parses messages, keeps raw text", async () => {
    const client = connect(URL_, { uid: " 1001 ", ...FAST });
    const r = record(client);
    const ws = await newSocket(0);
    assert.equal(ws.url, URL_);
    assert.deepEqual(r.states.map((e) => e.state), ["connecting"]);
    ws.open();
    assert.deepEqual(ws.sent, ["1001"]); // trimmed, as the gateway would
    assert.equal(client.state, "bound");
    ws.receive('{"uid":"1001","msg":"lock closed"}');
    ws.receive("not json");
    assert.deepEqual(r.messages[0], {
        data: { uid: "1001", msg: "lock closed" },
        text: '{"uid":"1001","msg":"lock closed"}',
    });
    assert.deepEqual(r.messages[1], { data: undefined, text: "not json" });
    client.close();
    assert.equal(ws.closedWith, 1000);
    assertStopped(client);
    assert.deepEqual(r.states.at(-1), { state: "closed", code: 1000, reason: "closed by the client" });
});

test("going away (1001): waits, reconnects, binds again", async () => {
    const client = connect(URL_, { uid: 7, ...FAST, stableAfter: 0 });
    const r = record(client);
    const first = await newSocket(socketCount());
    first.open();
    first.drop(1001, "server shutting down");
    const waiting = await r.next("waiting");
    assert.equal(waiting.code, 1001);
    assert.equal(waiting.reason, "server shutting down");
    assert.equal(waiting.attempt, 1);
    assert.ok(waiting.delay >= 0 && waiting.delay < 1);
    const second = await newSocket(FakeWebSocket.all.indexOf(first) + 1);
    second.open();
    assert.deepEqual(second.sent, ["7"]);
    assert.equal(client.state, "bound");
    client.close();
});

test("failed attempts back off; a stable connection starts over", async () => {
    const client = connect(URL_, {
        uid: "u", WebSocket: FakeWebSocket, minReconnectDelay: 2, maxReconnectDelay: 8,
        stableAfter: 60000,
    });
    const r = record(client);
    let index = socketCount();
    for (let i = 1; i <= 5; ++i) {
        const ws = await newSocket(index++);
        ws.drop(1006); // never opened: connection refused
        const w = r.states.filter((e) => e.state === "waiting").at(-1);
        assert.equal(w.attempt, i);
        assert.ok(w.delay < Math.min(8, 2 * 2 ** (i - 1)), `attempt ${i}: ${w.delay}`);
    }
    // Opened and then dropped at once: not stable, the backoff keeps growing.
    let ws = await newSocket(index++);
    ws.open();
    ws.drop(1006);
    assert.equal(r.states.at(-1).attempt, 6);
    // A connection that received a push proved itself.
    ws = await newSocket(index++);
    ws.open();
    ws.receive("{}");
    ws.drop(1006);
    assert.equal(r.states.at(-1).state, "waiting");
    assert.equal(r.states.at(-1).attempt, 1);
    client.close();
});

test("4001, invalid uid, operator: no reconnect", async () => {
    for (const [code, reason] of [
        [4001, "too many connections for this uid"],
        [1008, "invalid uid"],
        [1008, "disconnected by operator"],
    ]) {
        const before = socketCount();
        const client = connect(URL_, { uid: "1", ...FAST });
        const r = record(client);
        const ws = await newSocket(before);
        ws.open();
        ws.drop(code, reason);
        assertStopped(client);
        assert.deepEqual(r.states.map((e) => e.state), ["connecting", "bound", "closed"]);
        assert.deepEqual(r.states.at(-1), { state: "closed", code, reason });
        assert.equal(socketCount(), before + 1);
        // Nothing wakes a stopped client.
        windowEvents.dispatchEvent(new Event("online"));
        assert.equal(socketCount(), before + 1);
    }
});

test("bind timeout heals: reconnect", async () => {
    const client = connect(URL_, { uid: "1", ...FAST });
    const r = record(client);
    const ws = await newSocket(socketCount());
    ws.open();
    ws.drop(1008, "bind timeout");
    assert.equal((await r.next("waiting")).reason, "bind timeout");
    client.close();
});

test("shouldReconnect can override the policy", async () => {
    const client = connect(URL_, {
        uid: "1", ...FAST, shouldReconnect: ({ code }) => (code === 4001 ? true : code === 1001 ? false : undefined),
    });
    const r = record(client);
    let ws = await newSocket(socketCount());
    ws.open();
    ws.drop(4001, "too many connections for this uid");
    assert.equal(client.state, "waiting");
    ws = await newSocket(FakeWebSocket.all.indexOf(ws) + 1);
    ws.open();
    ws.drop(1001);
    assertStopped(client);
    assert.equal(r.states.at(-1).code, 1001);
});

test("getToken: first message is the token; a refusal asks again", async () => {
    let calls = 0;
    const client = connect(URL_, {
        ...FAST,
        getToken: async () => `tok-${++calls}`,
    });
    const r = record(client);
    let ws = await newSocket(socketCount());
    assert.equal(calls, 1); // asked before the socket opened: the bind is immediate
    ws.open();
    assert.deepEqual(ws.sent, ["tok-1"]);
    ws.drop(1008, "token expired");
    assert.equal((await r.next("waiting")).reason, "token expired");
    ws = await newSocket(FakeWebSocket.all.indexOf(ws) + 1);
    assert.equal(calls, 2);
    ws.open();
    assert.deepEqual(ws.sent, ["tok-2"]);
    // A drop that is not a refusal keeps the token (opaque: no exp to check).
    ws.drop(1001);
    ws = await newSocket(FakeWebSocket.all.indexOf(ws) + 1);
    ws.open();
    assert.deepEqual(ws.sent, ["tok-2"]);
    assert.equal(calls, 2);
    client.close();
});

test("getToken: an expired token is replaced before it is sent", async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokens = [jwt({ sub: "1", exp: now + 1 }), jwt({ sub: "1", exp: now + 300 })];
    let calls = 0;
    const client = connect(URL_, { ...FAST, getToken: () => tokens[calls++] });
    let ws = await newSocket(socketCount());
    ws.open();
    assert.deepEqual(ws.sent, [tokens[0]]);
    await waitUntil(() => Date.now() >= (now + 1) * 1000, "the first token to expire", 3000);
    ws.drop(1001);
    ws = await newSocket(FakeWebSocket.all.indexOf(ws) + 1);
    ws.open();
    assert.equal(calls, 2);
    assert.deepEqual(ws.sent, [tokens[1]]);
    client.close();
});

test("getToken: gives up after maxTokenRefusals refusals in a row", async () => {
    let calls = 0;
    const client = connect(URL_, {
        ...FAST, maxTokenRefusals: 2, getToken: async () => `t${++calls}`,
    });
    const r = record(client);
    let index = socketCount();
    for (let i = 0; i < 3; ++i) {
        const ws = await newSocket(index++);
        ws.open();
        ws.drop(1008, "bad signature");
    }
    assertStopped(client);
    assert.deepEqual(r.states.at(-1), { state: "closed", code: 1008, reason: "bad signature" });
    assert.equal(calls, 3);
});

test("static token: a refusal cannot heal", async () => {
    const client = connect(URL_, { token: "abc", ...FAST });
    const ws = await newSocket(socketCount());
    ws.open();
    assert.deepEqual(ws.sent, ["abc"]);
    ws.drop(1008, "token expired");
    assertStopped(client);
});

test("getToken failing: waits and asks again", async () => {
    let calls = 0;
    const client = connect(URL_, {
        ...FAST,
        getToken: async () => {
            if (++calls === 1)
                throw new Error("backend down");
            return "good";
        },
    });
    const r = record(client);
    const before = socketCount();
    const waiting = await r.next("waiting");
    assert.equal(waiting.reason, "getToken failed: backend down");
    assert.equal(waiting.code, 0);
    assert.equal(socketCount(), before); // no token, no connection
    const ws = await newSocket(before);
    ws.open();
    assert.deepEqual(ws.sent, ["good"]);
    assert.equal(calls, 2);
    client.close();
});

test("keep-alive: empty binary frames after the bind", async () => {
    const client = connect(URL_, { uid: "1", ...FAST, keepAliveInterval: 2 });
    const ws = await newSocket(socketCount());
    ws.open();
    await waitUntil(() => ws.sent.length >= 3, "two keep-alive frames");
    assert.equal(ws.sent[0], "1");
    for (const frame of ws.sent.slice(1)) {
        assert.ok(frame instanceof Uint8Array);
        assert.equal(frame.byteLength, 0);
    }
    ws.drop(1006);
    const count = ws.sent.length;
    client.close();
    assertStopped(client);
    assert.equal(ws.sent.length, count);
});

test("connect timeout: a socket that never opens is given up", async () => {
    const client = connect(URL_, { uid: "1", ...FAST, connectTimeout: 5 });
    const r = record(client);
    const ws = await newSocket(socketCount());
    const waiting = await r.next("waiting");
    assert.equal(waiting.reason, "connect timeout");
    assert.equal(ws.closedWith, 1005);
    client.close();
});

test("online and page-visible retry at once", async () => {
    const client = connect(URL_, {
        uid: "1", WebSocket: FakeWebSocket, minReconnectDelay: 60000, maxReconnectDelay: 60000,
    });
    const r = record(client);
    let ws = await newSocket(socketCount());
    ws.drop(1006);
    await r.next("waiting");
    const before = socketCount();
    windowEvents.dispatchEvent(new Event("online"));
    ws = await newSocket(before);
    ws.drop(1006);
    await waitUntil(() => client.state === "waiting", "waiting again");
    globalThis.document.visibilityState = "hidden";
    documentEvents.dispatchEvent(new Event("visibilitychange"));
    assert.equal(socketCount(), before + 1); // hidden: keeps waiting
    globalThis.document.visibilityState = "visible";
    documentEvents.dispatchEvent(new Event("visibilitychange"));
    ws = await newSocket(before + 1);
    ws.open();
    assert.equal(client.state, "bound");
    client.close();
});

test("listeners can unsubscribe", async () => {
    const client = connect(URL_, { uid: "1", ...FAST });
    const seen = [];
    const off = client.on("state", (e) => seen.push(e.state));
    const ws = await newSocket(socketCount());
    off();
    ws.open();
    assert.deepEqual(seen, ["connecting"]);
    assert.throws(() => client.on("nope", () => {}), TypeError);
    client.close();
});

let failed = 0;
for (const [i, { name, fn }] of tests.entries()) {
    try {
        await fn();
        console.log(`ok ${i + 1} - ${name}`);
    } catch (error) {
        failed += 1;
        console.log(`not ok ${i + 1} - ${name}\n  ${String(error?.stack ?? error).replace(/\n/g, "\n  ")}`);
    }
}
console.log(`1..${tests.length}`);
process.exit(failed ? 1 : 0);
