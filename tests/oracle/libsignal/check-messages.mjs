// TEST-ONLY oracle (see package.json): libsignal-client parses the Veil chat messages given as JSON lines
// on stdin and rebuilds each one from its fields and MAC key with libsignal's own constructor; the rebuilt
// bytes must equal Veil's (see the note on the version byte below). Prints one JSON summary line. Used by Veil.Crypto.Tests' LibsignalOracleTests.
import { createInterface } from 'node:readline';
import { createHmac } from 'node:crypto';
import { SignalMessage, PreKeySignalMessage, PublicKey } from '@signalapp/libsignal-client';

const hex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const same = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const failures = [];
const rebuiltMessages = [];
let checked = 0;

// libsignal 0.103 writes the version byte as (3 << 4) | 4 (its own current version is 4, PQXDH); Veil writes
// 0x33 because v4 is only a reserved slot in Veil. The low nibble is informative and libsignal's parser accepts
// both, but the MAC covers it, so the rebuilt bytes are compared without byte 0 and the MAC, and the MAC rule is
// checked twice: libsignal's own MAC must equal HMAC-SHA256(mac key, sender id || receiver id || bytes)[0:8]
// over its bytes, and Veil's MAC must equal the same rule over Veil's bytes.
const macRule = (m, body) =>
  createHmac('sha256', Buffer.from(m.macKey, 'hex'))
    .update(Buffer.from(m.senderIdentity, 'hex')).update(Buffer.from(m.receiverIdentity, 'hex')).update(body)
    .digest().subarray(0, 8);

function checkSignal(bytes, m, where) {
  const parsed = SignalMessage.deserialize(bytes);
  if (parsed.messageVersion() !== 3) failures.push(`${where}: version ${parsed.messageVersion()}`);
  if (parsed.counter() !== m.counter) failures.push(`${where}: counter ${parsed.counter()} != ${m.counter}`);
  if (!same(parsed.body(), hex(m.ciphertext))) failures.push(`${where}: body differs`);
  const rebuilt = Buffer.from(SignalMessage._new(
    3, hex(m.macKey), PublicKey.deserialize(hex(m.ratchetKey)), m.counter, m.previousCounter, hex(m.ciphertext),
    PublicKey.deserialize(hex(m.senderIdentity)), PublicKey.deserialize(hex(m.receiverIdentity)), new Uint8Array(0)).serialize());
  const ours = Buffer.from(bytes);
  if (rebuilt[0] !== 0x34 || ours[0] !== 0x33) failures.push(`${where}: version bytes ${rebuilt[0]} / ${ours[0]}`);
  if (!same(rebuilt.subarray(1, -8), ours.subarray(1, -8))) failures.push(`${where}: protobuf layout differs from libsignal's`);
  if (!same(rebuilt.subarray(-8), macRule(m, rebuilt.subarray(0, -8)))) failures.push(`${where}: libsignal's MAC is not the rule`);
  if (!same(ours.subarray(-8), macRule(m, ours.subarray(0, -8)))) failures.push(`${where}: Veil's MAC is not libsignal's rule`);
  rebuiltMessages.push(rebuilt.toString('hex'));
  return parsed;
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const m = JSON.parse(line);
  const where = `message ${checked}`;
  try {
    if (m.preKey) {
      const p = PreKeySignalMessage.deserialize(hex(m.serialized));
      if (p.version() !== 3) failures.push(`${where}: prekey version ${p.version()}`);
      if (p.registrationId() !== m.preKey.registrationId) failures.push(`${where}: registration id`);
      if (p.signedPreKeyId() !== m.preKey.signedPreKeyId) failures.push(`${where}: signed prekey id`);
      if ((p.preKeyId() ?? null) !== (m.preKey.preKeyId ?? null)) failures.push(`${where}: prekey id`);
      const inner = checkSignal(hex(m.inner), m, where);
      const rebuilt = PreKeySignalMessage._new(
        3, m.preKey.registrationId, m.preKey.preKeyId ?? null, m.preKey.signedPreKeyId,
        PublicKey.deserialize(hex(m.preKey.baseKey)), PublicKey.deserialize(hex(m.senderIdentity)), inner);
      if (!same(Buffer.from(rebuilt.serialize()).subarray(1), hex(m.serialized).subarray(1))) failures.push(`${where}: libsignal's PreKeySignalMessage layout differs: ${Buffer.from(rebuilt.serialize()).toString('hex').slice(0, 100)} vs ${m.serialized.slice(0, 100).toLowerCase()}`);
    } else {
      checkSignal(hex(m.serialized), m, where);
    }
  } catch (e) {
    failures.push(`${where}: libsignal refused it: ${e.message}`);
  }
  checked++;
}

console.log(JSON.stringify({ checked, failures: failures.slice(0, 20), failureCount: failures.length, rebuilt: rebuiltMessages }));
