// Push Console browser client: one ES module, no dependencies.
//
//   import { connect } from "/client.js";   // served by the gateway's HTTP port
//   const push = connect("wss://push.example.com/", { uid: "1001" });
//   push.on("message", ({ data, text }) => console.log(data ?? text));
//
// It opens the gateway's WebSocket, sends the uid (or a signed token) as its
// first message, and keeps the connection: reconnects with exponential
// backoff and full jitter, asks for a new token when the gateway refuses one,
// and stops where reconnecting could only repeat the refusal or evict another
// tab. docs/clients.md describes every option, event and close code.
// Works in browsers and wherever a WebSocket class exists (Node 22+, or pass
// one as options.WebSocket).

export const DEFAULTS = Object.freeze({
    minReconnectDelay: 1000, // ms: the first retry waits up to this
    maxReconnectDelay: 30000, // ms: no retry waits longer
    stableAfter: 5000, // ms up before the backoff starts over
    connectTimeout: 15000, // ms for the WebSocket to open
    keepAliveInterval: 0, // ms between keep-alive frames; 0: none
    maxTokenRefusals: 3, // token refusals in a row before giving up
});

// The gateway's close reasons for a refused token (core/TokenVerifier.cpp).
export const TOKEN_REFUSALS = Object.freeze([
    "malformed token",
    "token too long",
    "algorithm not allowed",
    "bad signature",
    "token expired",
    "token not yet valid",
    "missing exp",
    "invalid exp",
    "invalid nbf",
    "missing sub",
    "invalid sub",
]);

const UID_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;
// Browsers cannot send pings; an empty binary frame counts as activity and,
// unlike a text message, is not written to the gateway's log.
const KEEP_ALIVE_FRAME = new Uint8Array(0);

// Full jitter: a delay drawn uniformly from [0, min(max, min * 2^attempt)).
// Spreading retries over the whole window is what keeps a fleet of clients
// dropped at the same moment (a gateway restart) from coming back at once.
export function reconnectDelay(attempt, minDelay, maxDelay, random = Math.random) {
    const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(Math.max(attempt, 0), 30));
    return Math.floor(random() * ceiling);
}

// What to do after the gateway (or the network) closed the connection:
// "reconnect", "refresh" (get a new token, then reconnect) or "stop".
export function closeAction(code, reason, { tokenMode = false, canRefresh = false } = {}) {
    if (code === 4001) // a newer connection of this uid took our place
        return "stop";
    if (code !== 1008)
        return "reconnect";
    if (reason === "bind timeout") // our first message came too late: retry
        return "reconnect";
    if (reason === "invalid uid" || reason === "disconnected by operator")
        return "stop";
    // Any other policy refusal in token mode is about the token.
    return tokenMode && canRefresh ? "refresh" : "stop";
}

// The "exp" claim of a JWT in ms, or undefined when it cannot be read.
export function tokenExpiry(token) {
    try {
        const part = String(token).split(".")[1];
        const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
        const exp = JSON.parse(json).exp;
        return Number.isSafeInteger(exp) ? exp * 1000 : undefined;
    } catch {
        return undefined;
    }
}

function surface(error) {
    // A listener's exception must not break the connection logic; report it
    // the way an uncaught error would be.
    queueMicrotask(() => {
        throw error;
    });
}

function positive(value, name) {
    if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value))
        throw new TypeError(`${name} must be a number of milliseconds >= 0`);
    return value;
}

export class PushConsoleClient {
    constructor(url, options = {}) {
        const parsed = new URL(url);
        if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:")
            throw new TypeError(`not a ws:// or wss:// address: ${url}`);
        this._url = parsed.href;
        const credentials = ["uid", "token", "getToken"].filter((k) => options[k] !== undefined);
        if (credentials.length !== 1)
            throw new TypeError("give exactly one of uid, token or getToken");
        if (options.uid !== undefined) {
            this._uid = String(options.uid).trim();
            if (!UID_PATTERN.test(this._uid))
                throw new TypeError("a uid is 1-64 characters of A-Z a-z 0-9 _ . : @ -");
        } else if (options.getToken !== undefined) {
            if (typeof options.getToken !== "function")
                throw new TypeError("getToken must be a function returning a token");
            this._getToken = options.getToken;
        } else if (typeof options.token !== "string" || options.token === "") {
            throw new TypeError("token must be a non-empty string");
        }
        this._token = options.token;
        this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
        if (typeof this._WebSocket !== "function")
            throw new TypeError("no WebSocket class here: pass one as options.WebSocket");
        for (const key of Object.keys(DEFAULTS))
            this[`_${key}`] = positive(options[key] ?? DEFAULTS[key], key);
        // A zero window would retry in a tight loop for ever.
        if (this._minReconnectDelay < 1)
            throw new TypeError("minReconnectDelay must be at least 1 ms");
        this._shouldReconnect = options.shouldReconnect;

        this._listeners = { message: new Set(), state: new Set() };
        this._state = "idle";
        this._ws = null;
        this._timer = 0; // retry, or connect timeout
        this._keepAlive = 0;
        this._attempt = 0; // attempts since the last stable connection
        this._refusals = 0; // token refusals in a row
        this._needToken = this._getToken !== undefined;
        this._stopped = false;

        // Back now rather than at the end of a long backoff.
        this._onOnline = () => {
            if (this._state === "waiting")
                this._retryNow();
        };
        this._onVisible = () => {
            if (this._state === "waiting" && globalThis.document.visibilityState === "visible")
                this._retryNow();
        };
        if (typeof globalThis.addEventListener === "function")
            globalThis.addEventListener("online", this._onOnline);
        if (typeof globalThis.document?.addEventListener === "function")
            globalThis.document.addEventListener("visibilitychange", this._onVisible);

        // Started after the caller had the chance to add listeners.
        queueMicrotask(() => this._connect());
    }

    get state() {
        return this._state;
    }

    get url() {
        return this._url;
    }

    // type: "message" or "state". Returns a function that removes the listener.
    on(type, listener) {
        const set = this._listeners[type];
        if (!set)
            throw new TypeError(`unknown event "${type}": use "message" or "state"`);
        set.add(listener);
        return () => set.delete(listener);
    }

    off(type, listener) {
        this._listeners[type]?.delete(listener);
    }

    // Closes the connection (code 1000) and never reconnects.
    close() {
        if (this._stopped)
            return;
        const ws = this._ws;
        this._finish(1000, "closed by the client");
        if (ws) {
            try {
                ws.close(1000);
            } catch {
                // already closing
            }
        }
    }

    _emit(type, event) {
        for (const listener of [...this._listeners[type]]) {
            try {
                listener(event);
            } catch (error) {
                surface(error);
            }
        }
    }

    _setState(state, detail = {}) {
        this._state = state;
        this._emit("state", { state, ...detail });
    }

    _clearTimers() {
        clearTimeout(this._timer);
        clearInterval(this._keepAlive);
        this._timer = 0;
        this._keepAlive = 0;
    }

    async _firstMessage() {
        if (this._uid !== undefined)
            return this._uid;
        if (this._getToken && !this._needToken) {
            const expiry = tokenExpiry(this._token);
            // A token the gateway would refuse as expired costs a connection:
            // ask for a new one first (the gateway's clock still decides).
            if (expiry !== undefined && expiry <= Date.now())
                this._needToken = true;
        }
        if (this._needToken) {
            const token = await this._getToken();
            if (typeof token !== "string" || token.trim() === "")
                throw new TypeError("getToken() did not return a token");
            this._token = token.trim();
            this._needToken = false;
        }
        return this._token;
    }

    async _connect() {
        if (this._stopped)
            return;
        this._clearTimers();
        this._setState("connecting", { attempt: this._attempt });
        let first;
        try {
            first = await this._firstMessage();
        } catch (error) {
            if (!this._stopped)
                this._retry({ code: 0, reason: `getToken failed: ${error?.message ?? error}` });
            return;
        }
        if (this._stopped || this._state !== "connecting")
            return;
        let ws;
        try {
            ws = new this._WebSocket(this._url);
        } catch (error) {
            this._retry({ code: 0, reason: String(error?.message ?? error) });
            return;
        }
        this._ws = ws;
        ws.binaryType = "arraybuffer";
        let openedAt = 0;
        let received = false;
        this._timer = setTimeout(() => {
            if (ws !== this._ws)
                return;
            this._detach(ws);
            try {
                ws.close();
            } catch {
                // never opened
            }
            this._retry({ code: 0, reason: "connect timeout" });
        }, this._connectTimeout);
        ws.onopen = () => {
            if (ws !== this._ws)
                return;
            clearTimeout(this._timer);
            this._timer = 0;
            openedAt = Date.now();
            ws.send(first); // the bind; the gateway does not acknowledge it
            if (this._keepAliveInterval > 0) {
                this._keepAlive = setInterval(() => {
                    if (ws === this._ws && ws.readyState === 1)
                        ws.send(KEEP_ALIVE_FRAME);
                }, this._keepAliveInterval);
            }
            this._setState("bound", { url: this._url });
        };
        ws.onmessage = (event) => {
            if (ws !== this._ws || typeof event.data !== "string")
                return; // the gateway sends text frames only
            received = true;
            let data;
            try {
                data = JSON.parse(event.data);
            } catch {
                data = undefined;
            }
            this._emit("message", { data, text: event.data });
        };
        ws.onerror = () => {}; // a close event follows with the details
        ws.onclose = (event) => {
            if (ws !== this._ws)
                return;
            this._detach(ws);
            // Only a connection that proved itself resets the backoff and the
            // refusal count: one refused at once must keep them growing.
            if (received || (openedAt && Date.now() - openedAt >= this._stableAfter)) {
                this._attempt = 0;
                this._refusals = 0;
            }
            this._closed(event.code, event.reason ?? "");
        };
    }

    _detach(ws) {
        ws.onopen = ws.onmessage = ws.onclose = null;
        if (ws === this._ws)
            this._ws = null;
        this._clearTimers();
    }

    _closed(code, reason) {
        let action = closeAction(code, reason, {
            tokenMode: this._uid === undefined,
            canRefresh: this._getToken !== undefined,
        });
        if (this._shouldReconnect) {
            let verdict;
            try {
                verdict = this._shouldReconnect({ code, reason, action });
            } catch (error) {
                surface(error);
            }
            if (verdict === false)
                action = "stop";
            else if (verdict === true && action === "stop")
                action = "reconnect";
        }
        if (action === "refresh") {
            this._refusals += 1;
            if (this._refusals > this._maxTokenRefusals)
                action = "stop";
            this._needToken = true;
        }
        if (action === "stop") {
            this._finish(code, reason);
            return;
        }
        this._retry({ code, reason });
    }

    _retry(why) {
        this._clearTimers();
        const delay = reconnectDelay(
            this._attempt, this._minReconnectDelay, this._maxReconnectDelay);
        this._attempt += 1;
        this._timer = setTimeout(() => this._connect(), delay);
        this._setState("waiting", { delay, attempt: this._attempt, ...why });
    }

    _retryNow() {
        clearTimeout(this._timer);
        this._timer = 0;
        this._connect();
    }

    _finish(code, reason) {
        this._stopped = true;
        this._clearTimers();
        this._ws = null;
        if (typeof globalThis.removeEventListener === "function")
            globalThis.removeEventListener("online", this._onOnline);
        if (typeof globalThis.document?.removeEventListener === "function")
            globalThis.document.removeEventListener("visibilitychange", this._onVisible);
        this._setState("closed", { code, reason });
    }
}

// Opens a client: connect(url, { uid }), connect(url, { token }) or
// connect(url, { getToken: async () => token }), plus options (DEFAULTS,
// WebSocket, shouldReconnect). Throws TypeError on bad arguments.
export function connect(url, options) {
    return new PushConsoleClient(url, options);
}
