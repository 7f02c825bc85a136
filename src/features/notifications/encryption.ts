/**
 * Rich notifications' encryption, as Microsoft Graph does it, so a receiver written for Graph decrypts
 * Triage's notifications unchanged: the resource's JSON is encrypted with AES-256-CBC (PKCS7 padding)
 * under a fresh random 32-byte key whose first 16 bytes are the IV; the key is encrypted with RSA-OAEP
 * (SHA-1) under the receiver's certificate; an HMAC-SHA256 of the encrypted bytes, keyed with the same
 * key, lets the receiver check the data before decrypting it. The private key never leaves the receiver.
 */
import { constants, createCipheriv, createHmac, publicEncrypt, randomBytes, X509Certificate } from "node:crypto";
import { badRequest } from "../../errors/graph-error.js";

/** Longest encryptionCertificate accepted (base64): a 4096-bit RSA certificate with its chain of extensions fits several times over. */
export const MAX_CERTIFICATE_LENGTH = 16_384;
export const MAX_CERTIFICATE_ID_LENGTH = 128;
/** RSA keys accepted, in bits: below 2048 is too weak; above 8192 only slows every notification down. */
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

/** Graph's changeNotificationEncryptedContent. */
export interface EncryptedContent {
  data: string;
  dataKey: string;
  dataSignature: string;
  encryptionCertificateId: string;
  encryptionCertificateThumbprint: string;
}

/** A checked certificate: the public key resource data is encrypted for, and its SHA-1 thumbprint. */
export interface EncryptionCertificate {
  certificate: X509Certificate;
  thumbprint: string;
}

function parse(base64: string): X509Certificate {
  const compact = base64.replace(/\s+/g, "");
  if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw badRequest("The encryptionCertificate must be the base64 encoding of an X.509 certificate (DER).");
  }
  try {
    return new X509Certificate(Buffer.from(compact, "base64"));
  } catch {
    throw badRequest("The encryptionCertificate is not a valid X.509 certificate.");
  }
}

/** The SHA-1 thumbprint, as hex in upper case (as Windows and Graph show it). */
function thumbprintOf(cert: X509Certificate): string {
  return cert.fingerprint.replace(/:/g, "").toUpperCase();
}

/**
 * Checks a subscription's encryptionCertificate: a base64 X.509 certificate with an RSA public key of
 * 2048 to 8192 bits, valid now. Any failure is a 400 that says what is wrong.
 */
export function checkCertificate(raw: string, now: number): EncryptionCertificate {
  if (raw.length > MAX_CERTIFICATE_LENGTH) throw badRequest(`The encryptionCertificate is longer than ${MAX_CERTIFICATE_LENGTH} characters.`);
  const certificate = parse(raw);
  const key = certificate.publicKey;
  if (key.asymmetricKeyType !== "rsa") {
    throw badRequest(`The encryptionCertificate's public key must be RSA; it is ${key.asymmetricKeyType ?? "of an unknown type"}.`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw badRequest(`The encryptionCertificate's RSA key must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits; it has ${bits}.`);
  }
  const from = Date.parse(certificate.validFrom);
  const to = Date.parse(certificate.validTo);
  if (!(from <= now)) throw badRequest("The encryptionCertificate is not valid yet.");
  if (!(now < to)) throw badRequest("The encryptionCertificate has expired.");
  return { certificate, thumbprint: thumbprintOf(certificate) };
}

/** Reads a certificate stored with a subscription (it was checked when the subscription was created). */
export function storedCertificate(base64: string): EncryptionCertificate {
  const certificate = new X509Certificate(Buffer.from(base64, "base64"));
  return { certificate, thumbprint: thumbprintOf(certificate) };
}

/** Encrypts one resource's JSON for the receiver, with a key of its own. */
export function encryptResource(json: string, cert: EncryptionCertificate, certificateId: string): EncryptedContent {
  const key = randomBytes(32);
  const cipher = createCipheriv("aes-256-cbc", key, key.subarray(0, 16));
  const data = Buffer.concat([cipher.update(json, "utf8"), cipher.final()]);
  const dataKey = publicEncrypt({ key: cert.certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, key);
  return {
    data: data.toString("base64"),
    dataKey: dataKey.toString("base64"),
    dataSignature: createHmac("sha256", key).update(data).digest("base64"),
    encryptionCertificateId: certificateId,
    encryptionCertificateThumbprint: cert.thumbprint,
  };
}
