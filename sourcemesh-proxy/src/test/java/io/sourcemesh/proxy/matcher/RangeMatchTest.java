package io.sourcemesh.proxy.matcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** range_match reads a value as absl::SimpleAtoi reads an int64 (Envoy's header_utility_test range cases). */
class RangeMatchTest {

    @Test
    void aSignedDecimalInTheHalfOpenRange() {
        RangeMatch r = new RangeMatch(-10, 0);
        assertTrue(r.matches("-10"));
        assertTrue(r.matches("-1"));
        assertFalse(r.matches("0"), "the end is excluded");
        assertFalse(r.matches("-11"));
        assertTrue(new RangeMatch(0, 10).matches("+9"));
        assertTrue(new RangeMatch(0, 10).matches("007"));
    }

    @Test
    void asciiWhitespaceAroundIsSkipped() {
        RangeMatch r = new RangeMatch(0, 10);
        assertTrue(r.matches(" 5\t"));
        assertTrue(r.matches("\u000b5\r"));
        assertFalse(r.matches("5 5"));
        assertFalse(r.matches("\u00a05"), "no-break space is not ASCII whitespace");
    }

    @Test
    void anythingElseIsNoNumber() {
        RangeMatch all = new RangeMatch(Long.MIN_VALUE, Long.MAX_VALUE);
        for (String v : new String[] {"", " ", "+", "-", "--1", "+-1", "1.0", "0x1", "1e3", "1,2", "\u0661", "9223372036854775808"}) {
            assertFalse(all.matches(v), v);
        }
        assertTrue(all.matches("-9223372036854775808"));
        assertFalse(all.matches("9223372036854775807"), "end excluded: Long.MAX_VALUE itself");
        assertTrue(all.matches("9223372036854775806"));
    }
}
