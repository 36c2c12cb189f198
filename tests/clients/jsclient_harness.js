// Test harness tst_jsclient evaluates in a page the gateway served: loads the
// client module from the gateway (/client.js), starts named clients and
// records what they report, and mints HS256 uid tokens with WebCrypto (as a
// backend would with tests/php/mint_token.php).
window.h = {
    clients: {},
    states: {},
    messages: {},
    secret: "",
    ttl: 300,
    tokenCalls: 0,
    lastExp: 0,

    start(name, url, options) {
        const client = window.pc.connect(url, options);
        h.clients[name] = client;
        h.states[name] = [];
        h.messages[name] = [];
        client.on("state", (e) => h.states[name].push({ ...e, t: Date.now() }));
        client.on("message", (e) => h.messages[name].push({ text: e.text, data: e.data }));
        return true;
    },

    statesOf(name) {
        return h.states[name].map((e) => e.state);
    },

    async mint(sub, ttl) {
        const encoder = new TextEncoder();
        const b64url = (bytes) => btoa(String.fromCharCode(...bytes))
            .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        const part = (object) => b64url(encoder.encode(JSON.stringify(object)));
        const exp = Math.floor(Date.now() / 1000) + ttl;
        const signed = part({ alg: "HS256", typ: "JWT" }) + "." + part({ sub, exp });
        const key = await crypto.subtle.importKey("raw", encoder.encode(h.secret),
            { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(signed));
        h.lastExp = exp;
        return signed + "." + b64url(new Uint8Array(signature));
    },

    // What a page would do: fetch a fresh token from its backend.
    getToken(sub) {
        return async () => {
            h.tokenCalls += 1;
            return h.mint(sub, h.ttl);
        };
    },
};
window.h.ready = import("/client.js").then((module) => {
    window.pc = module;
    return true;
});
