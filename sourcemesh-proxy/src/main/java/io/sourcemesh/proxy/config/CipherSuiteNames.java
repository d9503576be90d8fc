package io.sourcemesh.proxy.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JDK names cipher suites as IANA does ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"); Envoy's %DOWNSTREAM_TLS_CIPHER%
 * prints BoringSSL's SSL_CIPHER_get_name ("ECDHE-RSA-AES128-GCM-SHA256"; a TLS 1.3 suite by its IANA name,
 * "TLS_AES_128_GCM_SHA256"). This maps every suite the JDK's TLS supports (Netty's defaults, which a filter chain
 * offers, are among them) to that name: BoringSSL's where it has the suite (ssl/ssl_cipher.cc), OpenSSL's for the
 * DHE and CBC-SHA384 suites BoringSSL dropped (OpenSSL's {@code ciphers -stdname} pairs, which BoringSSL's names
 * follow). A suite not here prints as the JDK names it.
 */
public final class CipherSuiteNames {
    private CipherSuiteNames() {}

    private static final Map<String, String> OPENSSL = Map.ofEntries(
            // TLS 1.3: BoringSSL names these as the RFC does.
            Map.entry("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
            Map.entry("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
            Map.entry("TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"),
            Map.entry("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
            Map.entry("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"),
            Map.entry("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
            Map.entry("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"),
            Map.entry("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384"),
            Map.entry("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"),
            Map.entry("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"),
            Map.entry("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
            Map.entry("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"),
            Map.entry("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"),
            Map.entry("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"),
            Map.entry("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384"),
            Map.entry("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"),
            Map.entry("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"),
            Map.entry("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256"),
            Map.entry("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384"),
            Map.entry("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305"),
            Map.entry("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256"),
            Map.entry("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256"),
            Map.entry("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA"),
            Map.entry("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA"),
            Map.entry("TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "DHE-DSS-AES128-GCM-SHA256"),
            Map.entry("TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", "DHE-DSS-AES256-GCM-SHA384"),
            Map.entry("TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE-DSS-AES128-SHA256"),
            Map.entry("TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "DHE-DSS-AES256-SHA256"),
            Map.entry("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA"),
            Map.entry("TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA"),
            // RSA key exchange: JDKs before 24 still support these.
            Map.entry("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"),
            Map.entry("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"),
            Map.entry("TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"),
            Map.entry("TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256"),
            Map.entry("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
            Map.entry("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"));

    /** The suite's OpenSSL/BoringSSL name; null for null (no suite negotiated). */
    public static String of(String jdkName) {
        if (jdkName == null || jdkName.isEmpty() || jdkName.equals("SSL_NULL_WITH_NULL_NULL")) {
            return null;
        }
        return OPENSSL.getOrDefault(jdkName, jdkName);
    }

    /** The JDK's name of the TLS 1.2 suite BoringSSL/OpenSSL names {@code openssl}, or null when there is none. */
    public static String jdkName(String openssl) {
        for (Map.Entry<String, String> e : OPENSSL.entrySet()) {
            if (e.getValue().equals(openssl) && !e.getKey().equals(e.getValue())) {
                return e.getKey();
            }
        }
        return null;
    }

    /**
     * The names in a cipher list ({@code tls_params.cipher_suites} entries: a suite's OpenSSL name or an equal-preference
     * group {@code [A|B]}) this proxy's TLS cannot offer: a name with no JDK suite (an operator, ALL, a TLS 1.3 name —
     * no cipher list narrows those) or one the JDK does not enable (jdk.tls.disabledAlgorithms: RSA key exchange,
     * 3DES). The control plane asks before it sends a list, the proxy refuses a config that names one.
     */
    public static List<String> notOffered(List<String> entries) {
        Set<String> offered = JdkDefaults.SUITES;
        List<String> out = new ArrayList<>();
        for (String entry : entries) {
            for (String name : names(entry)) {
                String jdk = jdkName(name);
                if (jdk == null || offered == null || !offered.contains(jdk)) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    /** An entry's suite names: the group's members, or the entry itself. */
    static String[] names(String entry) {
        boolean group = entry.startsWith("[") && entry.endsWith("]") && entry.length() > 2;
        return (group ? entry.substring(1, entry.length() - 1) : entry).split("\\|", -1);
    }

    /** Whether the JDK's TLS could be read at all (without it no list is offered). */
    static boolean jdkAvailable() {
        return JdkDefaults.SUITES != null;
    }

    /** The suites the JDK's TLS enables by default, read once: a config version is translated on every push. */
    private static final class JdkDefaults {
        static final Set<String> SUITES = read();

        private static Set<String> read() {
            try {
                javax.net.ssl.SSLContext jdk = javax.net.ssl.SSLContext.getInstance("TLS");
                jdk.init(new javax.net.ssl.KeyManager[0], new javax.net.ssl.TrustManager[0], null);
                return Set.of(jdk.getDefaultSSLParameters().getCipherSuites());
            } catch (java.security.GeneralSecurityException e) {
                return null;
            }
        }
    }

    /** Every JDK name mapped (for tests). */
    public static Map<String, String> all() {
        return OPENSSL;
    }
}
