package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.sourcemesh.l4.TlsNames;
import io.sourcemesh.proxy.config.ClusterConfig;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A request's upstream TLS names as Envoy's router takes them from the Host (Http::Utility::parseAuthority). */
class AutoSniNamesTest {
    private static final ClusterConfig.AutoSni BOTH = new ClusterConfig.AutoSni(true, true, Optional.of("x-sni"));

    private static TlsNames names(ClusterConfig.AutoSni auto, String host, String... sni) {
        HttpHeaders h = new DefaultHttpHeaders().set("host", host);
        for (String v : sni) {
            h.add("x-sni", v);
        }
        return AutoSniNames.of(auto, h);
    }

    @Test
    void theHostWithoutItsPortIsTheSniAndTheSan() {
        assertEquals(TlsNames.of("a.example", "a.example"), names(BOTH, "a.example:8443"));
        assertEquals(TlsNames.of("a.example", "a.example"), names(BOTH, "a.example"));
        // A port that does not parse (or is out of range) keeps the whole authority, as Envoy's parseAuthority.
        assertEquals(TlsNames.of("a.example:99999", "a.example:99999"), names(BOTH, "a.example:99999"));
        assertEquals(TlsNames.of("a.example:", "a.example:"), names(BOTH, "a.example:"));
    }

    @Test
    void anIpAddressIsNoSniButStillTheSan() {
        assertEquals(TlsNames.of(null, "10.0.0.1"), names(BOTH, "10.0.0.1:80"));
        assertEquals(TlsNames.of(null, "::1"), names(BOTH, "[::1]:80"));
        assertEquals(TlsNames.of(null, "::1"), names(BOTH, "[::1]"));
    }

    @Test
    void theOverrideHeaderWinsWhenPresentAndNotEmptyItsValuesJoined() {
        assertEquals(TlsNames.of("b.example", "b.example"), names(BOTH, "a.example", "b.example:443"));
        assertEquals(TlsNames.of("a.example", "a.example"), names(BOTH, "a.example", ""));
        assertEquals(TlsNames.of("b.example,c.example", "b.example,c.example"), names(BOTH, "a.example", "b.example", "c.example"));
    }

    @Test
    void eachOptionSetsItsOwnName() {
        assertEquals(TlsNames.of("a.example", null), names(new ClusterConfig.AutoSni(true, false, Optional.empty()), "a.example"));
        assertEquals(TlsNames.of(null, "a.example"), names(new ClusterConfig.AutoSni(false, true, Optional.empty()), "a.example"));
        assertNull(names(ClusterConfig.AutoSni.OFF, "a.example"));
    }
}
