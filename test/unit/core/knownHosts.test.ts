// Reading a server's host key out of known_hosts text the way ssh does (issue 19, SSH).
import { hostKeyProblem, knownHostKeys, preferredHostKey } from "../../../core/knownHosts";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcYTx8qTyI+UPK/atRiXnZQolw64Dx4flYs32eP2+GQ";
const ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDDhzcgfvnf3XPYDwhY6KIHOdMPK/f7vUnmhrJj4TLN6MfXyIUFtxiO5bqGvft9rTLUOjLbfQGMgBEgV3wKjpAo=";
/** `ssh-keygen -H` of "b.example.net ED" (the real tool's hashing). */
const HASHED = `|1|dOJ/fTlaQRLuztkIfmNi7VXIljo=|3HaXo0mj7ZqUr3MWoKgrPbwfiD8= ${ED}`;

describe("known_hosts", () => {
  test("a plain entry, a list of names and a hashed entry (ssh-keygen -H)", () => {
    expect(knownHostKeys(`b.example.net ${ED}`, "b.example.net", 22).keys).toEqual([ED]);
    expect(knownHostKeys(`a.example.net,b.example.net,203.0.113.2 ${ED}`, "203.0.113.2", 22).keys).toEqual([ED]);
    expect(knownHostKeys(HASHED, "b.example.net", 22).keys).toEqual([ED]);
    expect(knownHostKeys(HASHED, "c.example.net", 22).keys).toEqual([]);
  });

  test("a port other than 22 is [host]:port, as ssh writes it", () => {
    expect(knownHostKeys(`b.example.net ${ED}`, "b.example.net", 2222).keys).toEqual([]);
    expect(knownHostKeys(`[b.example.net]:2222 ${ED}`, "b.example.net", 2222).keys).toEqual([ED]);
    expect(knownHostKeys(`[b.example.net]:2222 ${ED}`, "b.example.net", 22).keys).toEqual([]);
  });

  test("patterns, negation, comments, CA lines and revoked keys", () => {
    expect(knownHostKeys(`*.example.net,!evil.example.net ${ED}`, "b.example.net", 22).keys).toEqual([ED]);
    expect(knownHostKeys(`*.example.net,!evil.example.net ${ED}`, "evil.example.net", 22).keys).toEqual([]);
    expect(knownHostKeys(`# b.example.net ${ED}\n\n@cert-authority b.example.net ${ED}`, "b.example.net", 22).keys).toEqual([]);
    const revoked = knownHostKeys(`b.example.net ${ED}\n@revoked * ${ED}`, "b.example.net", 22);
    expect(revoked).toEqual({ keys: [], revoked: [ED] });
  });

  test("of several keys, the one Go's client offers first (ECDSA before Ed25519)", () => {
    expect(preferredHostKey([ED, ECDSA])).toBe(ECDSA);
    expect(preferredHostKey([ED])).toBe(ED);
    expect(preferredHostKey([])).toBeUndefined();
  });

  test.each([
    ["a key with its host", `b.example.net ${ED}`, "must be one public key as `type base64`"],
    ["a key with a comment", `${ED} root@b`, "must be one public key"],
    ["an unknown type", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "must be a key of type"],
    ["a blob of another type", `ssh-ed25519 ${ECDSA.split(" ")[1]}`, "must hold a ssh-ed25519 key"],
    ["a truncated blob", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "must hold a ssh-ed25519 key"],
  ])("refuses %s as a host key", (_what, key, fragment) => {
    expect(hostKeyProblem(key)).toContain(fragment);
  });

  test("good keys pass", () => {
    expect(hostKeyProblem(ED)).toBeUndefined();
    expect(hostKeyProblem(ECDSA)).toBeUndefined();
  });
});
