// TEST/BENCH-ONLY (see package.json): libsignal-client's Double Ratchet rate through node, for bench/chat.sh.
// One session Alice -> Bob (libsignal 0.103 requires a Kyber prekey, so this is its v4/PQXDH session), then
// N encrypts by Alice and N in-order decrypts by Bob of a 100-byte message, then N/10 X3DH responder runs (Bob
// decrypting fresh first messages), N/10 sealed-sender seals and opens, N sender-key encrypts and decrypts. Prints
// {"encrypt_per_s","decrypt_per_s","x3dh_responder_per_s","sealed_seal_per_s","sealed_open_per_s","group_encrypt_per_s","group_decrypt_per_s"}.
import * as S from '@signalapp/libsignal-client';

const n = Number(process.argv[2] ?? 5000);
const sessions = (m) => new (class extends S.SessionStore {
  async saveSession(a, r) { m.set(a.toString(), r); }
  async getSession(a) { return m.get(a.toString()) ?? null; }
  async getExistingSessions(as) { return as.map((a) => m.get(a.toString())); }
})();
const identities = (key, reg) => new (class extends S.IdentityKeyStore {
  async getIdentityKey() { return key; }
  async getLocalRegistrationId() { return reg; }
  async saveIdentity() { return S.IdentityChange.NewOrUnchanged; }
  async isTrustedIdentity() { return true; }
  async getIdentity() { return null; }
})();

const aliceKey = S.PrivateKey.generate(), bobKey = S.PrivateKey.generate();
const aliceAddr = S.ProtocolAddress.new('alice', 1), bobAddr = S.ProtocolAddress.new('bob', 1);
const aliceSessions = sessions(new Map()), bobSessions = sessions(new Map());
const aliceIds = identities(aliceKey, 1), bobIds = identities(bobKey, 2);
const spk = S.PrivateKey.generate(), opk = S.PrivateKey.generate(), kyber = S.KEMKeyPair.generate();
const spkSig = bobKey.sign(spk.getPublicKey().serialize()), kyberSig = bobKey.sign(kyber.getPublicKey().serialize());
const spkRecord = S.SignedPreKeyRecord.new(1, Date.now(), spk.getPublicKey(), spk, spkSig);
const opkRecord = S.PreKeyRecord.new(1, opk.getPublicKey(), opk);
const kyberRecord = S.KyberPreKeyRecord.new(1, Date.now(), kyber, kyberSig);
const preKeys = new (class extends S.PreKeyStore { async savePreKey() {} async getPreKey() { return opkRecord; } async removePreKey() {} })();
const signed = new (class extends S.SignedPreKeyStore { async saveSignedPreKey() {} async getSignedPreKey() { return spkRecord; } })();
const kyberStore = new (class extends S.KyberPreKeyStore { async saveKyberPreKey() {} async getKyberPreKey() { return kyberRecord; } async markKyberPreKeyUsed() {} })();

const bundle = S.PreKeyBundle.new(2, 1, 1, opk.getPublicKey(), 1, spk.getPublicKey(), spkSig, bobKey.getPublicKey(), 1, kyber.getPublicKey(), kyberSig);
await S.processPreKeyBundle(bundle, bobAddr, aliceAddr, aliceSessions, aliceIds);
const first = await S.signalEncrypt(new Uint8Array(100), bobAddr, aliceAddr, aliceSessions, aliceIds);
await S.signalDecryptPreKey(S.PreKeySignalMessage.deserialize(first.serialize()), aliceAddr, bobAddr, bobSessions, bobIds, preKeys, signed, kyberStore);
const reply = await S.signalEncrypt(new Uint8Array(100), aliceAddr, bobAddr, bobSessions, bobIds);
await S.signalDecrypt(S.SignalMessage.deserialize(reply.serialize()), bobAddr, aliceAddr, aliceSessions, aliceIds);

const plaintext = new Uint8Array(100);
const messages = [];
let t = process.hrtime.bigint();
for (let i = 0; i < n; i++) messages.push((await S.signalEncrypt(plaintext, bobAddr, aliceAddr, aliceSessions, aliceIds)).serialize());
const encryptNs = Number(process.hrtime.bigint() - t);
t = process.hrtime.bigint();
for (const m of messages) await S.signalDecrypt(S.SignalMessage.deserialize(m), aliceAddr, bobAddr, bobSessions, bobIds);
const decryptNs = Number(process.hrtime.bigint() - t);
// X3DH responder: m fresh first messages (each its own base key) from Alice, then Bob's signalDecryptPreKey of each.
const m = Math.max(1, Math.floor(n / 10));
const firsts = [];
for (let i = 0; i < m; i++) {
  const fresh = sessions(new Map());
  await S.processPreKeyBundle(bundle, bobAddr, aliceAddr, fresh, aliceIds);
  firsts.push((await S.signalEncrypt(plaintext, bobAddr, aliceAddr, fresh, aliceIds)).serialize());
}
t = process.hrtime.bigint();
for (const f of firsts) await S.signalDecryptPreKey(S.PreKeySignalMessage.deserialize(f), aliceAddr, bobAddr, bobSessions, bobIds, preKeys, signed, kyberStore);
const responderNs = Number(process.hrtime.bigint() - t);

// Sealed sender v1 (sealedSenderEncrypt / sealedSenderDecryptToUsmc: the seal alone, as Veil's Seal/Open):
// m seals Alice -> Bob of a SignalMessage with a sender certificate, then Bob's m opens.
const trustRoot = S.PrivateKey.generate(), serverKey = S.PrivateKey.generate();
const serverCert = S.ServerCertificate.new(1, serverKey.getPublicKey(), trustRoot);
const senderCert = S.SenderCertificate.new('9d0652a3-dcc3-4d11-975f-74d61598733f', null, 1, aliceKey.getPublicKey(), Date.now() + 3600e3, serverCert, serverKey);
const usmc = S.UnidentifiedSenderMessageContent.new(await S.signalEncrypt(plaintext, bobAddr, aliceAddr, aliceSessions, aliceIds), senderCert, 0, null);
const sealIds = new (class extends S.IdentityKeyStore {
  async getIdentityKey() { return aliceKey; }
  async getLocalRegistrationId() { return 1; }
  async saveIdentity() { return S.IdentityChange.NewOrUnchanged; }
  async isTrustedIdentity() { return true; }
  async getIdentity() { return bobKey.getPublicKey(); }
})();
const envelopes = [];
t = process.hrtime.bigint();
for (let i = 0; i < m; i++) envelopes.push(await S.sealedSenderEncrypt(usmc, bobAddr, sealIds));
const sealNs = Number(process.hrtime.bigint() - t);
t = process.hrtime.bigint();
for (const e of envelopes) await S.sealedSenderDecryptToUsmc(e, bobIds);
const openNs = Number(process.hrtime.bigint() - t);

// Sender keys: n group encrypts by Alice of a 100-byte message, then n in-order decrypts by a member.
const senderKeys = () => new (class extends S.SenderKeyStore {
  constructor() { super(); this.m = new Map(); }
  async saveSenderKey(a, d, r) { this.m.set(a.toString() + d, r); }
  async getSenderKey(a, d) { return this.m.get(a.toString() + d) ?? null; }
})();
const ownKeys = senderKeys(), memberKeys = senderKeys();
const distributionId = 'd1d1d1d1-7000-11eb-b32a-33b8a8a487a6';
const skdm = await S.SenderKeyDistributionMessage.create(aliceAddr, distributionId, ownKeys);
await S.processSenderKeyDistributionMessage(aliceAddr, S.SenderKeyDistributionMessage.deserialize(skdm.serialize()), memberKeys);
const groupMessages = [];
t = process.hrtime.bigint();
for (let i = 0; i < n; i++) groupMessages.push((await S.groupEncrypt(aliceAddr, distributionId, ownKeys, plaintext)).serialize());
const groupEncryptNs = Number(process.hrtime.bigint() - t);
t = process.hrtime.bigint();
for (const g of groupMessages) await S.groupDecrypt(aliceAddr, memberKeys, g);
const groupDecryptNs = Number(process.hrtime.bigint() - t);
const rate = (count, ns) => Math.round(count / (ns / 1e9));
console.log(JSON.stringify({
  encrypt_per_s: rate(n, encryptNs), decrypt_per_s: rate(n, decryptNs), x3dh_responder_per_s: rate(m, responderNs),
  sealed_seal_per_s: rate(m, sealNs), sealed_open_per_s: rate(m, openNs),
  group_encrypt_per_s: rate(n, groupEncryptNs), group_decrypt_per_s: rate(n, groupDecryptNs),
}));
