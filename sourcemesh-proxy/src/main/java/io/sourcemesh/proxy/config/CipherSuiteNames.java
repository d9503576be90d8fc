package io.sourcemesh.proxy.config;

import java.util.Map;

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

    /** Every JDK name mapped (for tests). */
    public static Map<String, String> all() {
        return OPENSSL;
    }
}
