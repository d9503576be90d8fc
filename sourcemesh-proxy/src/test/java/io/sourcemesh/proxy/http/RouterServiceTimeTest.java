package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** x-envoy-upstream-service-time as the router writes it: decimal milliseconds, shared text below a second. */
class RouterServiceTimeTest {

    @Test
    void decimalMillisSharedBelowASecond() {
        assertEquals("0", Router.millisText(0).toString());
        assertEquals("7", Router.millisText(7).toString());
        assertEquals("999", Router.millisText(999).toString());
        assertEquals("1000", Router.millisText(1000).toString());
        assertEquals("123456789", Router.millisText(123456789L).toString());
        assertSame(Router.millisText(42), Router.millisText(42));
    }
}
