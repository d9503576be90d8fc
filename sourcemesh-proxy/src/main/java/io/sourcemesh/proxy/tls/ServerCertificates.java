package io.sourcemesh.proxy.tls;

import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.TlsContextConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;

/**
 * A server context's {@code tls_certificates}, all of them served, chosen per handshake as Envoy
 * chooses: among the certificates whose key the client can verify (the JDK asks by key type, in
 * the client's order of preference), the first whose names match the SNI exactly, then the first
 * matching it by wildcard, else the first of that key type. So an RSA and an ECDSA certificate,
 * or certificates for different names, can share one filter chain.
 */
final class ServerCertificates extends X509ExtendedKeyManager {

    /**
     * One certificate chain, its key, the key type the JDK's TLS asks for it by, and the DNS names
     * its leaf is valid for (SANs, else the CN).
     */
    private record Entry(X509Certificate[] chain, PrivateKey key, String keyType, List<String> names) {}

    private final List<Entry> entries;
    /** An upstream context's: its one certificate is the client's, and it serves none. */
    private final boolean client;

    private ServerCertificates(List<Entry> entries, boolean client) {
        this.entries = List.copyOf(entries);
        this.client = client;
    }

    /** Reads every certificate and key; a bad one fails the context, naming its index under {@code path}. */
    static ServerCertificates of(List<TlsContextConfig.CertificateConfig> certificates, String path) {
        if (certificates.isEmpty()) {
            throw new ConfigException(path, "a downstream TLS context needs a certificate");
        }
        return new ServerCertificates(read(certificates, path), false);
    }

    /**
     * An UpstreamTlsContext's client certificate (none or one): sent whenever the server asks for one, whatever CA names
     * its request lists, as BoringSSL sends the one certificate of Envoy's client context.
     */
    static ServerCertificates client(List<TlsContextConfig.CertificateConfig> certificates, String path) {
        return new ServerCertificates(read(certificates, path), true);
    }

    private static List<Entry> read(List<TlsContextConfig.CertificateConfig> certificates, String path) {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < certificates.size(); i++) {
            TlsContextConfig.CertificateConfig c = certificates.get(i);
            String at = path + ".typed_config.common_tls_context.tls_certificates[" + i + "]";
            X509Certificate[] chain = certificates(c.certificateChainPem(), at + ".certificate_chain");
            PrivateKey key = privateKey(c.privateKeyPem(), chain[0].getPublicKey().getAlgorithm(), at + ".private_key");
            requirePair(chain[0], key, at);
            entries.add(new Entry(chain, key, keyType(key), names(chain[0])));
        }
        return entries;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (client) {
            return null;
        }
        return choose(keyType, serverName(engine == null ? null : engine.getHandshakeSession()));
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        if (client) {
            return null;
        }
        return choose(keyType, null);
    }

    private String choose(String keyType, String sni) {
        int first = -1;
        int wildcard = -1;
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (!e.keyType().equals(keyType)) {
                continue;
            }
            if (sni != null) {
                for (String name : e.names()) {
                    if (name.equals(sni)) {
                        return alias(i);
                    }
                    if (wildcard < 0 && matchesWildcard(name, sni)) {
                        wildcard = i;
                    }
                }
            }
            if (first < 0) {
                first = i;
            }
        }
        int chosen = wildcard >= 0 ? wildcard : first;
        return chosen < 0 ? null : alias(chosen);
    }

    /** {@code *.example.com} matches {@code a.example.com}, not {@code example.com} nor {@code a.b.example.com}. */
    private static boolean matchesWildcard(String name, String sni) {
        if (!name.startsWith("*.")) {
            return false;
        }
        int dot = sni.indexOf('.');
        return dot > 0 && sni.substring(dot).equals(name.substring(1));
    }

    private static String serverName(SSLSession session) {
        if (session instanceof ExtendedSSLSession s) {
            for (SNIServerName n : s.getRequestedServerNames()) {
                if (n instanceof SNIHostName host) {
                    return host.getAsciiName().toLowerCase(Locale.ROOT);
                }
            }
        }
        return null;
    }

    /** The JDK's TLS names the key type of every EdDSA scheme "EdDSA", whatever the key calls itself. */
    private static String keyType(PrivateKey key) {
        return switch (key.getAlgorithm()) {
            case "Ed25519", "Ed448" -> "EdDSA";
            default -> key.getAlgorithm();
        };
    }

    private static String alias(int i) {
        return Integer.toString(i);
    }

    private Entry entry(String alias) {
        try {
            int i = Integer.parseInt(alias);
            return i >= 0 && i < entries.size() ? entries.get(i) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Entry e = entry(alias);
        return e == null ? null : e.chain().clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Entry e = entry(alias);
        return e == null ? null : e.key();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        if (client) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).keyType().equals(keyType)) {
                out.add(alias(i));
            }
        }
        return out.isEmpty() ? null : out.toArray(String[]::new);
    }

    // A server context presents no client certificate; a client context its one, of a key type the server accepts.
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        String alias = chooseClientAlias(new String[] {keyType}, issuers, null);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        if (!client) {
            return null;
        }
        for (int i = 0; i < entries.size(); i++) {
            for (String type : keyType) {
                if (entries.get(i).keyType().equals(type)) {
                    return alias(i);
                }
            }
        }
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return chooseClientAlias(keyType, issuers, null);
    }

    /** The certificates a PEM holds, in order; none, or a damaged one, fails naming {@code path}. */
    static X509Certificate[] certificates(String pem, String path) {
        try {
            List<X509Certificate> certs = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                certs.add((X509Certificate) c);
            }
            if (certs.isEmpty()) {
                throw new ConfigException(path, "holds no certificate");
            }
            return certs.toArray(X509Certificate[]::new);
        } catch (CertificateException e) {
            throw new ConfigException(path, "is not a valid certificate: " + e.getMessage());
        }
    }

    /**
     * PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM, as openssl and kubectl write them (an EC PARAMETERS block
     * before the key is skipped), made a JDK key of the certificate's algorithm so the JDK's TLS
     * asks for it by the key type it knows.
     */
    private static PrivateKey privateKey(String pem, String algorithm, String path) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                // A SEC1 key's curve sits in its public half's algorithm identifier: PKCS#8 wants it beside the key.
                PrivateKeyInfo info = o instanceof PEMKeyPair pair
                        ? pair.getPublicKeyInfo() == null ? pair.getPrivateKeyInfo()
                                : new PrivateKeyInfo(pair.getPublicKeyInfo().getAlgorithm(), pair.getPrivateKeyInfo().parsePrivateKey())
                        : o instanceof PrivateKeyInfo i ? i : null;
                if (info != null) {
                    return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
                }
            }
            throw new ConfigException(path, "holds no unencrypted private key");
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            if (e instanceof ConfigException c) {
                throw c;
            }
            throw new ConfigException(path, "is not a readable " + algorithm + " private key: " + e.getMessage());
        }
    }

    /** Envoy refuses a key that does not belong to its certificate at load; so do we, by one signature. */
    private static void requirePair(X509Certificate leaf, PrivateKey key, String path) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null; // RSASSA-PSS needs parameters of its own: left to the handshake
        };
        if (algorithm == null) {
            return;
        }
        try {
            byte[] probe = "sourcemesh key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new ConfigException(path + ".private_key", "does not belong to the certificate in certificate_chain");
            }
        } catch (GeneralSecurityException e) {
            throw new ConfigException(path + ".private_key", "does not belong to the certificate in certificate_chain: "
                    + e.getMessage());
        }
    }

    /** The leaf's DNS subject alternative names, lower case; its CN only when it has none (as Envoy matches). */
    private static List<String> names(X509Certificate leaf) {
        List<String> names = new ArrayList<>();
        try {
            var sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String dns) {
                        names.add(dns.toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable SANs: fall through to the CN
        }
        if (names.isEmpty()) {
            try {
                for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        names.add(String.valueOf(rdn.getValue()).toLowerCase(Locale.ROOT));
                    }
                }
            } catch (InvalidNameException e) {
                // no CN either: the certificate is served only as its key type's default
            }
        }
        return names;
    }
}
