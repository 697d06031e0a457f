package io.baton.sidecar.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM certificates and private keys as the config loader checks them: a file that would make
 * the TLS engine fail at start-up is refused at load time with the reason (so {@code baton
 * validate} and a SIGHUP reload see it before a handoff begins). What is accepted here is what
 * Netty's OpenSSL context reads: X.509 certificates, unencrypted PKCS#8 RSA or EC keys.
 */
public final class PemFiles {

  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

  private PemFiles() {}

  /** Why a PEM file is unusable: a message that completes {@code key: "path" (expected ...): }. */
  public static final class PemException extends Exception {
    private static final long serialVersionUID = 1L;

    PemException(String message) {
      super(message);
    }
  }

  /** The certificates of {@code file}, in order; at least one. */
  public static List<X509Certificate> certificates(Path file) throws PemException {
    String text = read(file);
    List<X509Certificate> certs = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (Block b : blocks(text)) {
        if (!b.type().equals("CERTIFICATE")) {
          continue; // e.g. a key in the same file: not ours to read here
        }
        certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(b.der())));
      }
    } catch (CertificateException | IllegalArgumentException e) {
      throw new PemException("not a valid certificate (" + e.getMessage() + ")");
    }
    if (certs.isEmpty()) {
      throw new PemException("no \"BEGIN CERTIFICATE\" block found");
    }
    return certs;
  }

  /** The single private key of {@code file}. */
  public static PrivateKey privateKey(Path file) throws PemException {
    String text = read(file);
    List<Block> keys = blocks(text).stream().filter(b -> b.type().endsWith("PRIVATE KEY")).toList();
    if (keys.isEmpty()) {
      throw new PemException("no \"BEGIN PRIVATE KEY\" block found");
    }
    if (keys.size() > 1) {
      throw new PemException(keys.size() + " private keys found (expected one)");
    }
    Block key = keys.get(0);
    if (key.type().equals("ENCRYPTED PRIVATE KEY")) {
      throw new PemException(
          "the key is encrypted (expected an unencrypted key: openssl pkcs8 -topk8 -nocrypt)");
    }
    if (!key.type().equals("PRIVATE KEY")) {
      throw new PemException(
          "\"BEGIN "
              + key.type()
              + "\" is not PKCS#8 (expected \"BEGIN PRIVATE KEY\": convert with "
              + "openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8)");
    }
    for (String algorithm : List.of("RSA", "EC")) {
      try {
        return KeyFactory.getInstance(algorithm)
            .generatePrivate(new PKCS8EncodedKeySpec(key.der()));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new PemException("not an RSA or EC private key");
  }

  /**
   * Whether {@code key} is the private half of {@code certificate}'s public key (a signature proves
   * it).
   */
  public static boolean matches(PrivateKey key, X509Certificate certificate) {
    PublicKey publicKey = certificate.getPublicKey();
    if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return false;
    }
    String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String read(Path file) throws PemException {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new PemException("does not exist");
    } catch (AccessDeniedException e) {
      throw new PemException("permission denied");
    } catch (IOException e) {
      throw new PemException("cannot be read (" + e + ")");
    }
  }

  private record Block(String type, byte[] der) {}

  private static List<Block> blocks(String text) throws PemException {
    List<Block> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      try {
        blocks.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
      } catch (IllegalArgumentException e) {
        throw new PemException("\"BEGIN " + m.group(1) + "\" block is not valid base64");
      }
    }
    return blocks;
  }
}
