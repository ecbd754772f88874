// The banner of an operator's notice (a breach notification), shown above every page of a signed-in account until
// the account marks it as read. It is an alert (read out once by a screen reader when it appears); "I have read this"
// is a plain button, so Tab and Enter or Space dismiss it, and focus then moves to the next notice or the page.
import { useEffect, useState } from "preact/hooks";
import { noticesApi, type AccountNotice } from "../api/notices";
import * as session from "../session/store";

export function NoticeBanner() {
  const signedIn = session.status.value === "signed-in";
  const [notices, setNotices] = useState<AccountNotice[]>([]);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    if (!signedIn) {
      setNotices([]);
      return;
    }
    let live = true;
    noticesApi.list().then((r) => live && setNotices(r.notices), () => undefined);
    return () => {
      live = false;
    };
  }, [signedIn]);

  const notice = notices[0];
  if (notice === undefined) return null;
  const noticeId = notice.id;
  const titleId = `notice-${noticeId}`;

  async function acknowledge() {
    try {
      await noticesApi.acknowledge(noticeId);
      setFailed(false);
      setNotices((list) => list.filter((n) => n.id !== noticeId));
      // The button is gone: keep the keyboard user's place on the next notice, else on the page itself.
      requestAnimationFrame(() => (document.querySelector<HTMLElement>(".notice-banner button") ?? document.getElementById("main"))?.focus());
    } catch {
      setFailed(true);
    }
  }

  return (
    <section class="notice-banner" role="alert" aria-labelledby={titleId}>
      <h2 id={titleId}>{notice.subject}</h2>
      <p class="muted">A notice from the operator of this Veil server, {new Date(notice.createdAt).toLocaleString()}.</p>
      {notice.body.split(/\n{2,}/).map((paragraph, i) => (
        <p key={i}>{paragraph}</p>
      ))}
      {failed && <p class="error">Could not save that you read it. Try again.</p>}
      <button type="button" onClick={acknowledge}>I have read this</button>
      {notices.length > 1 && <p class="muted">{notices.length - 1} more notice{notices.length > 2 ? "s" : ""} after this one.</p>}
    </section>
  );
}
