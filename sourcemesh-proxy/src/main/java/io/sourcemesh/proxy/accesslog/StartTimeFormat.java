package io.sourcemesh.proxy.accesslog;

import java.util.ArrayList;
import java.util.List;

/**
 * %START_TIME(...)%: a strftime-like pattern compiled once and rendered in UTC (Envoy's START_TIME
 * is UTC; START_TIME_LOCAL is the local-time variant). Beyond strftime Envoy accepts %s (epoch
 * seconds) and %f / %1f..%9f (fraction digits, 9 by default), and absl's %E#S (seconds with #
 * fraction digits). The default pattern is Envoy's "%Y-%m-%dT%H:%M:%E3SZ". Times are kept to the
 * millisecond, so digits past the third are zeros. Calendar arithmetic is done by hand so a line
 * costs no java.time allocations.
 */
final class StartTimeFormat {
    private static final String[] DAYS = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July",
            "August", "September", "October", "November", "December"};
    private static final int[] CUMULATIVE_DAYS = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

    /** A literal run (spec == 0) or one conversion with an optional digit count. */
    private record Token(char spec, int digits, String literal) {}

    private static final StartTimeFormat DEFAULT = compile("%Y-%m-%dT%H:%M:%E3SZ");

    private final Token[] tokens;

    private StartTimeFormat(Token[] tokens) {
        this.tokens = tokens;
    }

    static StartTimeFormat defaultFormat() {
        return DEFAULT;
    }

    static StartTimeFormat compile(String pattern) {
        List<Token> out = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        int i = 0;
        int n = pattern.length();
        while (i < n) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 >= n) {
                lit.append(c);
                i++;
                continue;
            }
            char next = pattern.charAt(i + 1);
            int consumed;
            Token t;
            if (next >= '1' && next <= '9' && i + 2 < n && pattern.charAt(i + 2) == 'f') {
                t = new Token('f', next - '0', null);
                consumed = 3;
            } else if (next == 'E' && i + 3 < n && Character.isDigit(pattern.charAt(i + 2)) && pattern.charAt(i + 3) == 'S') {
                t = new Token('S', pattern.charAt(i + 2) - '0', null);
                consumed = 4;
            } else if (next == 'E' && i + 2 < n && pattern.charAt(i + 2) == 'z') {
                t = new Token('Z', 1, null); // %Ez: "+00:00"
                consumed = 3;
            } else if ("YCymdeHIMSpjaAbhBuwZzsfTDFRnt%".indexOf(next) >= 0) {
                t = new Token(next, next == 'f' ? 9 : 0, null);
                consumed = 2;
            } else {
                lit.append(c).append(next); // unknown conversion: printed as written
                i += 2;
                continue;
            }
            if (!lit.isEmpty()) {
                out.add(new Token((char) 0, 0, lit.toString()));
                lit.setLength(0);
            }
            out.add(t);
            i += consumed;
        }
        if (!lit.isEmpty()) {
            out.add(new Token((char) 0, 0, lit.toString()));
        }
        return new StartTimeFormat(out.toArray(Token[]::new));
    }

    void append(StringBuilder out, long epochMillis) {
        long epochSeconds = Math.floorDiv(epochMillis, 1000L);
        int millis = (int) Math.floorMod(epochMillis, 1000L);
        long days = Math.floorDiv(epochSeconds, 86_400L);
        int secondOfDay = (int) Math.floorMod(epochSeconds, 86_400L);
        int hour = secondOfDay / 3600;
        int minute = secondOfDay / 60 % 60;
        int second = secondOfDay % 60;
        // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil inverse).
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doyMar = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doyMar + 2) / 153;
        int day = (int) (doyMar - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        boolean leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        int dayOfYear = CUMULATIVE_DAYS[month - 1] + day + (leap && month > 2 ? 1 : 0);
        int weekday = (int) Math.floorMod(days + 4, 7L); // 1970-01-01 was a Thursday; Sunday = 0

        for (Token t : tokens) {
            switch (t.spec) {
                case 0 -> out.append(t.literal);
                case 'Y' -> out.append(year);
                case 'C' -> pad(out, year / 100, 2);
                case 'y' -> pad(out, Math.floorMod(year, 100L), 2);
                case 'm' -> pad(out, month, 2);
                case 'd' -> pad(out, day, 2);
                case 'e' -> out.append(day < 10 ? " " : "").append(day);
                case 'H' -> pad(out, hour, 2);
                case 'I' -> pad(out, hour % 12 == 0 ? 12 : hour % 12, 2);
                case 'M' -> pad(out, minute, 2);
                case 'S' -> {
                    pad(out, second, 2);
                    if (t.digits > 0) {
                        out.append('.');
                        appendFraction(out, millis, t.digits);
                    }
                }
                case 'p' -> out.append(hour < 12 ? "AM" : "PM");
                case 'j' -> pad(out, dayOfYear, 3);
                case 'a' -> out.append(DAYS[weekday], 0, 3);
                case 'A' -> out.append(DAYS[weekday]);
                case 'b', 'h' -> out.append(MONTHS[month - 1], 0, 3);
                case 'B' -> out.append(MONTHS[month - 1]);
                case 'u' -> out.append(weekday == 0 ? 7 : weekday);
                case 'w' -> out.append(weekday);
                case 'Z' -> out.append(t.digits == 1 ? "+00:00" : "UTC");
                case 'z' -> out.append("+0000");
                case 's' -> out.append(epochSeconds);
                case 'f' -> appendFraction(out, millis, t.digits);
                case 'T' -> {
                    pad(out, hour, 2);
                    out.append(':');
                    pad(out, minute, 2);
                    out.append(':');
                    pad(out, second, 2);
                }
                case 'D' -> {
                    pad(out, month, 2);
                    out.append('/');
                    pad(out, day, 2);
                    out.append('/');
                    pad(out, Math.floorMod(year, 100L), 2);
                }
                case 'F' -> {
                    out.append(year).append('-');
                    pad(out, month, 2);
                    out.append('-');
                    pad(out, day, 2);
                }
                case 'R' -> {
                    pad(out, hour, 2);
                    out.append(':');
                    pad(out, minute, 2);
                }
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case '%' -> out.append('%');
                default -> throw new IllegalStateException("unhandled conversion " + t.spec);
            }
        }
    }

    /** The first {@code digits} digits of the nine-digit nanosecond fraction (truncated, as Envoy). */
    private static void appendFraction(StringBuilder out, int millis, int digits) {
        int nanosDigits = millis; // three significant digits, then zeros
        for (int i = 0; i < digits; i++) {
            int d = switch (i) {
                case 0 -> nanosDigits / 100;
                case 1 -> nanosDigits / 10 % 10;
                case 2 -> nanosDigits % 10;
                default -> 0;
            };
            out.append((char) ('0' + d));
        }
    }

    private static void pad(StringBuilder out, long value, int width) {
        long v = value;
        int len = 1;
        for (long t = v; t >= 10; t /= 10) {
            len++;
        }
        for (int i = len; i < width; i++) {
            out.append('0');
        }
        out.append(v);
    }
}
