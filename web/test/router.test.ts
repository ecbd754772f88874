import { describe, expect, it } from "vitest";
import { matchPath } from "../src/app/router";

describe("router", () => {
  it("matches exact paths, parameters and a rest wildcard", () => {
    expect(matchPath("/app", "/app")).toEqual({});
    expect(matchPath("/app", "/app/")).toEqual({});
    expect(matchPath("/app", "/app/x")).toBeNull();
    expect(matchPath("/app/alias/:id", "/app/alias/a%20b")).toEqual({ id: "a b" });
    expect(matchPath("/app/vault/*", "/app/vault/1/items")).toEqual({ "*": "1/items" });
    expect(matchPath("/", "/signin")).toBeNull();
  });
});
