// The master-password rule (the C# client's rule): >= 10 characters AND zxcvbn score >= 3 with "veil", the
// address and its parts as user inputs.
import { describe, expect, it } from "vitest";
import { checkMasterPassword, userInputsFor } from "../src/identity/strength";

describe("master password strength", () => {
  it("uses veil, the address and its parts of at least 3 characters as user inputs", () => {
    expect(userInputsFor(" Alice.Smith+veil@Example.org ")).toEqual(
      ["veil", "alice.smith+veil@example.org", "alice", "smith", "example", "org"],
    );
    expect(userInputsFor("jo@x.io")).toEqual(["veil", "jo@x.io"]);
  });

  it("refuses a short password and says how long it must be", async () => {
    const verdict = await checkMasterPassword("Xq7#pL2!", "alice@example.org");
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons.join(" ")).toContain("at least 10 characters");
  });

  it("refuses a common password and explains why", async () => {
    const verdict = await checkMasterPassword("password123", "alice@example.org");
    expect(verdict.ok).toBe(false);
    expect(verdict.score).toBeLessThan(3);
    expect(verdict.reasons.join(" ")).toMatch(/too easy to guess/);
  });

  it("refuses a password built from the address and the word veil", async () => {
    // Strong for anyone else; for its owner it is just their own address reversed.
    const strongElsewhere = await checkMasterPassword("quimbyzorblat", "bob@test.net");
    const verdict = await checkMasterPassword("quimbyzorblat", "zorblat.quimby@frobnitz.org");
    expect(strongElsewhere.ok).toBe(true);
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons.join(" ")).toMatch(/personal/);
  });

  it("accepts a long phrase of unrelated words", async () => {
    const verdict = await checkMasterPassword("orbit tulip gravel mandolin", "alice@example.org");
    expect(verdict).toEqual({ ok: true, score: 4, reasons: [] });
  });
});
