// The master-password rule shared with the C# client: at least 10 characters AND a zxcvbn score of at least 3, with
// "veil", the email address and its parts as user inputs (so "alice2026!" is weak for alice@example.org).
// zxcvbn's dictionaries are large, so they load on first use (the register page), not with the app.
import type { ZxcvbnResult } from "@zxcvbn-ts/core";

export const MinimumLength = 10;
export const MinimumScore = 3;

export interface StrengthVerdict {
  ok: boolean;
  score: number;
  /** Why the password is refused (empty when ok), in sentences a user can act on. */
  reasons: string[];
}

/** "veil", the address, and its parts split on @ . + - _ that have at least 3 characters. */
export function userInputsFor(email: string): string[] {
  const address = email.trim().toLowerCase();
  const parts = address.split(/[@.+\-_]/).filter((part) => part.length >= 3);
  return [...new Set(["veil", ...(address ? [address] : []), ...parts])];
}

type Checker = (password: string, userInputs: string[]) => ZxcvbnResult;
let checker: Promise<Checker> | null = null;

async function loadChecker(): Promise<Checker> {
  const [{ ZxcvbnFactory }, common, en] = await Promise.all([
    import("@zxcvbn-ts/core"),
    import("@zxcvbn-ts/language-common"),
    import("@zxcvbn-ts/language-en"),
  ]);
  const factory = new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
  return (password, userInputs) => factory.check(password, userInputs);
}

export async function checkMasterPassword(password: string, email: string): Promise<StrengthVerdict> {
  checker ??= loadChecker();
  const check = await checker;
  const result = check(password, userInputsFor(email));
  const reasons: string[] = [];
  if ([...password].length < MinimumLength) reasons.push(`Use at least ${MinimumLength} characters (this one has ${[...password].length}).`);
  if (result.score < MinimumScore) {
    reasons.push(`It is too easy to guess (strength ${result.score} of 4; at least ${MinimumScore} is needed).`);
    if (result.feedback.warning) reasons.push(result.feedback.warning);
    reasons.push(...result.feedback.suggestions);
  }
  return { ok: reasons.length === 0, score: result.score, reasons };
}
