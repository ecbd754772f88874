// A strict JSON reader for the Drop metadata record (spec/drop.md §4). JSON.parse is not enough: it keeps
// the last of two duplicated members and cannot tell 1 from 1.0. This parser refuses duplicates at any
// depth and remembers, for each number, whether it was written as an integer.

export class JsonNumber {
  constructor(readonly value: number, readonly isInteger: boolean) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

/** Parses one JSON value followed only by JSON whitespace; null on any error or duplicated member. */
export function parseStrictJson(text: string): JsonValue | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const fail = (): never => {
    throw new SyntaxError("malformed JSON at " + i);
  };

  const parseString = (): string => {
    if (text[i] !== '"') fail();
    i++;
    let out = "";
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case "\\": out += "\\"; break;
          case "/": out += "/"; break;
          case "b": out += "\b"; break;
          case "f": out += "\f"; break;
          case "n": out += "\n"; break;
          case "r": out += "\r"; break;
          case "t": out += "\t"; break;
          case "u": {
            const hex = text.substring(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail();
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default: fail();
        }
      } else {
        out += text[i];
        i++;
      }
    }
  };

  const parseNumber = (): JsonNumber => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.substring(i));
    if (!m) fail();
    i += m![0].length;
    return new JsonNumber(Number(m![0]), m![2] === undefined && m![3] === undefined);
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > 64) fail();
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: { [key: string]: JsonValue } = Object.create(null);
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        const key = parseString();
        if (seen.has(key)) fail();
        seen.add(key);
        ws();
        if (text[i] !== ":") fail();
        i++;
        obj[key] = parseValue(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail();
      }
    }
    if (c === "[") {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail();
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    return parseNumber();
  };

  try {
    const value = parseValue(0);
    ws();
    return i === text.length ? value : null;
  } catch {
    // Malformed input is an expected outcome here, reported as null.
    return null;
  }
}
