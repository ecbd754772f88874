// TEST-ONLY oracle (see package.json): sealed sender v1 between Veil and libsignal-client.
//   node sealed.mjs make  < {senderPrivate, recipientPublic}   -> {certificate, envelope}
//      a libsignal sender certificate (XEdDSA, made here) for the sender's identity key, and a libsignal v1
//      envelope sealing a retry request (PlaintextContent) to the recipient.
//   node sealed.mjs open  < {recipientPrivate, envelope}        -> {type, contents, hint, senderKey}
//      libsignal opens a Veil envelope (sealedSenderDecryptToUsmc) and reports what it found.
import * as S from '@signalapp/libsignal-client';

const input = JSON.parse(await new Promise((resolve) => { let d = ''; process.stdin.on('data', (c) => (d += c)); process.stdin.on('end', () => resolve(d)); }));
const hex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const out = (b) => Buffer.from(b).toString('hex');
const store = (priv, peer) => new (class extends S.IdentityKeyStore {
  async getIdentityKey() { return priv; }
  async getLocalRegistrationId() { return 1; }
  async saveIdentity() { return S.IdentityChange.NewOrUnchanged; }
  async isTrustedIdentity() { return true; }
  async getIdentity() { return peer; }
})();

if (process.argv[2] === 'make') {
  const sender = S.PrivateKey.deserialize(hex(input.senderPrivate));
  const root = S.PrivateKey.generate(), server = S.PrivateKey.generate();
  const serverCert = S.ServerCertificate.new(1, server.getPublicKey(), root);
  const cert = S.SenderCertificate.new('9d0652a3-dcc3-4d11-975f-74d61598733f', null, 3, sender.getPublicKey(), Date.now() + 86400000, serverCert, server);
  const inner = S.SignalMessage._new(3, new Uint8Array(32), S.PrivateKey.generate().getPublicKey(), 5, 4, new Uint8Array(160),
    sender.getPublicKey(), S.PublicKey.deserialize(hex(input.recipientPublic)), new Uint8Array(0));
  // A retry request (PlaintextContent, type 8) is the one content libsignal lets a test build without a session.
  const retry = S.PlaintextContent.from(S.DecryptionErrorMessage.forOriginal(inner.serialize(), S.CiphertextMessageType.Whisper, 1765000000000, 1));
  const usmc = S.UnidentifiedSenderMessageContent.new(S.CiphertextMessage.from(retry), cert, 1, null);
  const envelope = await S.sealedSenderEncrypt(usmc, S.ProtocolAddress.new('recipient', 1), store(sender, S.PublicKey.deserialize(hex(input.recipientPublic))));
  console.log(JSON.stringify({ certificate: out(cert.serialize()), envelope: out(envelope), contents: out(retry.serialize()), original: out(inner.serialize()) }));
} else {
  const recipient = S.PrivateKey.deserialize(hex(input.recipientPrivate));
  const usmc = await S.sealedSenderDecryptToUsmc(hex(input.envelope), store(recipient, null));
  console.log(JSON.stringify({ type: usmc.msgType(), contents: out(usmc.contents()), hint: usmc.contentHint(), senderKey: out(usmc.senderCertificate().key().serialize()) }));
}
