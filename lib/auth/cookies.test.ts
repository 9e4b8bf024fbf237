import { describe, expect, it } from "vitest";
import { randomToken } from "@/lib/crypto";
import { addPendingState, MAX_PENDING_SIGN_INS, pendingStates, removePendingState } from "./cookies";

describe("sign-in state cookie", () => {
  it("keeps the browser's own pending sign-in when another one is started (a cross-site navigation)", () => {
    const own = randomToken();
    const forced = randomToken();
    const cookie = addPendingState(addPendingState(undefined, own), forced);
    expect(pendingStates(cookie)).toEqual([own, forced]);
  });

  it("holds the newest five states, oldest dropped first", () => {
    const states = Array.from({ length: MAX_PENDING_SIGN_INS + 2 }, () => randomToken());
    const cookie = states.reduce<string | undefined>((c, s) => addPendingState(c, s), undefined);
    expect(MAX_PENDING_SIGN_INS).toBe(5);
    expect(pendingStates(cookie)).toEqual(states.slice(-5));
    expect(cookie?.length).toBeLessThan(300);
  });

  it("removes only the used state, and ignores what isn't a state", () => {
    const [a, b] = [randomToken(), randomToken()];
    const cookie = `${a}.<script>.${"x".repeat(5000)}.${b}`;
    expect(pendingStates(cookie)).toEqual([a, b]);
    expect(removePendingState(cookie, a)).toBe(b);
    expect(removePendingState(b, b)).toBe("");
    expect(removePendingState(cookie, randomToken())).toBe(`${a}.${b}`);
  });
});
