/**
 * A receiver's side of rich notifications: a self-signed RSA certificate to subscribe with (built with
 * node-forge, Node's crypto making the key), and Graph's documented decryption procedure for an
 * encryptedContent: RSA-OAEP (SHA-1) decrypt the key, check the HMAC-SHA256 of the data, then
 * AES-256-CBC decrypt with the key's first 16 bytes as the IV.
 */
import { constants, createDecipheriv, createHmac, generateKeyPairSync, privateDecrypt, timingSafeEqual, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";

// node-forge ships no types of its own.
const forge = createRequire(import.meta.url)("node-forge") as any;

export interface ReceiverCertificate {
  /** base64 DER, as encryptionCertificate takes it. */
  base64: string;
  privateKey: KeyObject;
}

export function receiverCertificate(opts: { bits?: number; notBefore?: Date; notAfter?: Date } = {}): ReceiverCertificate {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: opts.bits ?? 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = "01";
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 30 * 86_400_000);
  const name = [{ shortName: "CN", value: "notification receiver" }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString()), forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes() as string;
  return { base64: Buffer.from(der, "binary").toString("base64"), privateKey };
}

export interface EncryptedContent {
  data: string;
  dataKey: string;
  dataSignature: string;
  encryptionCertificateId: string;
  encryptionCertificateThumbprint: string;
}

/** Decrypts as Graph's documentation says; throws when the signature does not verify. */
export function decryptContent(c: EncryptedContent, privateKey: KeyObject): unknown {
  const key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, Buffer.from(c.dataKey, "base64"));
  const data = Buffer.from(c.data, "base64");
  const expected = createHmac("sha256", key).update(data).digest();
  const given = Buffer.from(c.dataSignature, "base64");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error("the data signature does not verify");
  const decipher = createDecipheriv("aes-256-cbc", key, key.subarray(0, 16));
  return JSON.parse(Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8"));
}
