package io.sourcemesh.proxy.matcher;

/**
 * Envoy's header {@code range_match} ({@code type.v3.Int64Range}): the value read as an int64 the way
 * absl's SimpleAtoi reads one (ASCII whitespace around it, an optional sign, decimal digits, no
 * overflow) lies in [start, end). A value that is no such number never matches.
 */
public record RangeMatch(long start, long end) {

    public boolean matches(String value) {
        int from = 0;
        int to = value.length();
        while (from < to && isSpace(value.charAt(from))) {
            from++;
        }
        while (to > from && isSpace(value.charAt(to - 1))) {
            to--;
        }
        int digits = from < to && (value.charAt(from) == '-' || value.charAt(from) == '+') ? from + 1 : from;
        if (digits == to) {
            return false;
        }
        for (int i = digits; i < to; i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return false; // Long.parseLong would also take other scripts' digits
            }
        }
        long n;
        try {
            n = Long.parseLong(value, from, to, 10);
        } catch (NumberFormatException overflow) {
            return false;
        }
        return n >= start && n < end;
    }

    /** absl::ascii_isspace. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    @Override
    public String toString() {
        return "range:[" + start + "," + end + ")";
    }
}
