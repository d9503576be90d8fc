package io.sourcemesh.proxy.accesslog;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A restarted stream is a fresh one: an HTTP connection's next request reuses its last request's object, so a
 * field {@link StreamInfo#restart} left as it was would log the last request's value on the next.
 */
class StreamInfoTest {
    /** A value unlike a fresh stream's for each type of field. */
    private static final Map<Class<?>, Object> SET = Map.of(
            long.class, 7L, int.class, 7, String.class, "x", Boolean.class, Boolean.TRUE,
            InetSocketAddress.class, new InetSocketAddress("10.0.0.1", 7), HttpHeaders.class, new DefaultHttpHeaders(),
            EnumSet.class, EnumSet.of(ResponseFlag.UPSTREAM_OVERFLOW), TlsConnectionInfo.class, TlsCommandsTest.MUTUAL,
            Map.class, new java.util.HashMap<>(Map.of("envoy.filters.http.jwt_authn", "payload")));

    @Test
    void aRestartedStreamHasEveryFieldOfAFreshOne() throws Exception {
        StreamInfo used = StreamInfo.start(1);
        Field[] fields = StreamInfo.class.getDeclaredFields();
        for (Field f : fields) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            f.setAccessible(true);
            Object value = SET.get(f.getType());
            assertNotNull(value, "no test value for " + f + ": add one");
            f.set(used, value);
        }
        used.restart(42);
        StreamInfo fresh = StreamInfo.start(42);
        for (Field f : fields) {
            if (Modifier.isStatic(f.getModifiers()) || f.getName().equals("startEpochMillis")) {
                continue;
            }
            assertEquals(f.get(fresh), f.get(used), f.getName());
        }
        assertNotEquals(7L, used.startEpochMillis(), "the restart's own start");
    }

    @Test
    void dynamicMetadataKeepsTheStructItIsHandedAndMergesLaterOnes() {
        var json = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        var payload = json.objectNode().put("sub", "alice");
        com.fasterxml.jackson.databind.node.ObjectNode fields = json.objectNode();
        fields.set("payload", payload);
        StreamInfo s = StreamInfo.start(1);
        s.dynamicMetadata("envoy.filters.http.jwt_authn", fields);
        assertSame(fields, s.dynamicMetadata("envoy.filters.http.jwt_authn"), "handed over, not deep-copied per request");
        assertSame(payload, s.dynamicMetadata("envoy.filters.http.jwt_authn").get("payload"));
        s.dynamicMetadata("envoy.filters.http.jwt_authn", json.objectNode().put("other", 1));
        assertEquals("{\"payload\":{\"sub\":\"alice\"},\"other\":1}", s.dynamicMetadata("envoy.filters.http.jwt_authn").toString());
        s.dynamicMetadata("envoy.filters.http.jwt_authn", json.objectNode().put("other", 2));
        assertEquals(2, s.dynamicMetadata("envoy.filters.http.jwt_authn").get("other").intValue(), "a key set again replaced");
    }
}
