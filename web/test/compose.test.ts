// The MIME message the mailbox page writes (web/src/mailbox/compose.ts) reads back with the page's MIME reader, as
// `veil mail read` reads it (WebmailBrowserTests checks the CLI side against the real server).
import { describe, expect, it } from "vitest";
import { buildMime, mailDate, summaryOf } from "../src/mailbox/compose";
import { readMessage } from "../src/mailbox/mime";

describe("composing in the page", () => {
  const draft = {
    from: "alice@mail.example",
    to: ["bob@mail.example", "carol@elsewhere.example"],
    subject: "Grüße aus Köln — a subject long enough to need more than one encoded word",
    body: "First line\nSecond line with ünïcödé",
    attachments: [{ name: "menü.pdf", type: "application/pdf", bytes: new Uint8Array([0, 1, 2, 255]) }],
  };

  it("writes headers, a text part and attachments that the MIME reader reads back", () => {
    const { mime, date, messageId } = buildMime(draft, new Date(Date.UTC(2026, 11, 7, 9, 5, 3)));
    expect(date).toBe("Mon, 07 Dec 2026 09:05:03 +0000");
    expect(messageId).toMatch(/^<[0-9a-f]{32}@mail\.example>$/);
    const text = new TextDecoder().decode(mime);
    expect(text).not.toMatch(/[^\x00-\x7f]/); // 7-bit: every non-ASCII byte is encoded
    const read = readMessage(mime);
    expect(read.from).toBe("alice@mail.example");
    expect(read.to).toBe("bob@mail.example, carol@elsewhere.example");
    expect(read.subject).toBe(draft.subject);
    expect(read.text).toBe(draft.body);
    expect(read.attachments).toHaveLength(1);
    expect(read.attachments[0]!.name).toBe("menü.pdf");
    expect(Array.from(read.attachments[0]!.bytes)).toEqual([0, 1, 2, 255]);
  });

  it("strips line breaks from header values (no header injection)", () => {
    const { mime } = buildMime({ ...draft, subject: "Hi\r\nBcc: evil@example.org", attachments: [] }, new Date());
    const head = new TextDecoder().decode(mime).split("\r\n\r\n")[0]!;
    expect(head).not.toMatch(/^Bcc:/m);
    expect(readMessage(mime).subject).toBe("Hi Bcc: evil@example.org");
  });

  it("seals the summary the server's readers expect", () => {
    const summary = JSON.parse(new TextDecoder().decode(summaryOf(draft, mailDate(new Date(0))))) as Record<string, unknown>;
    expect(summary).toMatchObject({ v: 1, from: "alice@mail.example", subject: draft.subject, snippet: "First line Second line with ünïcödé", attachments: ["menü.pdf"], to: draft.to });
  });
});
