// Preloaded into the launcher's process by the integration test: fetch fails the way it does on a
// machine without internet access, without sending anything anywhere.
globalThis.fetch = () => Promise.reject(new TypeError("fetch failed"));
