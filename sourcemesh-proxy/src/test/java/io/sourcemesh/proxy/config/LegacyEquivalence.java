package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;

/**
 * The new reader ({@link BootstrapLoader#parse}) against the old one ({@link LegacyBootstrapParser}) on one
 * text: both read it to equal messages, or both refuse it — at the same field with the same words where
 * the old reader named a field, and as invalid YAML/JSON where it found the text so.
 */
final class LegacyEquivalence {

    private LegacyEquivalence() {}

    static void check(String text) {
        Bootstrap legacy = null;
        ConfigException legacyError = null;
        try {
            legacy = LegacyBootstrapParser.parse(text);
        } catch (ConfigException e) {
            legacyError = e;
        }
        Bootstrap now = null;
        ConfigException error = null;
        try {
            now = BootstrapLoader.parse(text);
        } catch (ConfigException e) {
            error = e;
        }
        if (legacyError == null && error == null) {
            assertEquals(legacy, now, () -> "the same message from both readers:\n" + text);
            return;
        }
        if (legacyError == null) {
            fail("the old reader read it, the new one refused it (" + error.getMessage() + "):\n" + text);
        }
        if (error == null) {
            fail("the old reader refused it (" + legacyError.getMessage() + "), the new one read it:\n" + text);
        }
        String old = legacyError.getMessage();
        if (old.startsWith("bootstrap is not valid YAML or JSON")) {
            assertTrue(error.getMessage().startsWith("bootstrap is not valid YAML or JSON"), error.getMessage());
        } else if (!old.startsWith("bootstrap: ")) { // JsonCheck's or the loader's own words, by path
            assertEquals(old, error.getMessage(), text);
        } // else JsonFormat's, which named no path: the new reader's names one (any), and refusing is what counts
    }
}
