// OpenPGP.js 6.3 as an independent peer for Veil's OpenPGP tests (tests/Veil.Crypto.Tests/OpenPgp) and bench.
//   node peer.mjs gen "<user id>" pub.asc sec.asc
//   node peer.mjs encrypt recipient.asc (signer-sec.asc|-) in.bin out.pgp
//   node peer.mjs decrypt sec.asc (verifier.asc|-) in.pgp out.bin      -> prints {"signature":"valid|invalid|none","signer":"<fpr>"}
//   node peer.mjs bench recipient.asc signer-sec.asc sec.asc size-bytes runs  -> prints {"encryptMs":[...],"decryptMs":[...]}
import { readFileSync, writeFileSync } from 'node:fs';
import * as openpgp from 'openpgp';

const [command, ...args] = process.argv.slice(2);
const text = (path) => readFileSync(path, 'utf8');
const readKey = async (path) => (path === '-' ? undefined : openpgp.readKey({ armoredKey: text(path) }));
const readPrivate = async (path) => (path === '-' ? undefined : openpgp.readPrivateKey({ armoredKey: text(path) }));

async function encrypt(recipient, signer, data) {
  const message = await openpgp.createMessage({ binary: data });
  return openpgp.encrypt({ message, encryptionKeys: recipient, signingKeys: signer, format: 'binary' });
}

async function decrypt(key, verifier, data) {
  const message = await openpgp.readMessage({ binaryMessage: data });
  const result = await openpgp.decrypt({ message, decryptionKeys: key, verificationKeys: verifier, format: 'binary', expectSigned: false });
  let signature = 'none';
  let signer = null;
  if (result.signatures.length > 0) {
    try {
      await result.signatures[0].verified;
      signature = 'valid';
      signer = verifier?.getFingerprint().toUpperCase() ?? null;
    } catch {
      signature = 'invalid';
    }
  }
  return { data: result.data, signature, signer };
}

switch (command) {
  case 'gen': {
    const [userId, pubPath, secPath] = args;
    const match = /^(.*) <(.*)>$/.exec(userId);
    const { publicKey, privateKey } = await openpgp.generateKey({
      type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: match[1], email: match[2] }], format: 'armored',
    });
    writeFileSync(pubPath, publicKey);
    writeFileSync(secPath, privateKey);
    break;
  }
  case 'encrypt': {
    const [recipientPath, signerPath, inPath, outPath] = args;
    writeFileSync(outPath, await encrypt(await readKey(recipientPath), await readPrivate(signerPath), readFileSync(inPath)));
    break;
  }
  case 'decrypt': {
    const [secPath, verifierPath, inPath, outPath] = args;
    const { data, signature, signer } = await decrypt(await readPrivate(secPath), await readKey(verifierPath), readFileSync(inPath));
    writeFileSync(outPath, data);
    console.log(JSON.stringify({ signature, signer }));
    break;
  }
  case 'bench': {
    const [recipientPath, signerPath, secPath, size, runs] = args;
    const recipient = await readKey(recipientPath);
    const signer = await readPrivate(signerPath);
    const key = await readPrivate(secPath);
    const verifier = signer.toPublic();
    const data = new Uint8Array(Number(size)).map((_, i) => (i * 31) & 0xff);
    const encryptMs = [];
    const decryptMs = [];
    for (let i = 0; i < Number(runs); i++) {
      let start = performance.now();
      const message = await encrypt(recipient, signer, data);
      encryptMs.push(performance.now() - start);
      start = performance.now();
      const { signature } = await decrypt(key, verifier, message);
      decryptMs.push(performance.now() - start);
      if (signature !== 'valid') throw new Error('bench: signature did not verify');
    }
    console.log(JSON.stringify({ encryptMs, decryptMs }));
    break;
  }
  default:
    console.error(`unknown command ${command}`);
    process.exit(2);
}
