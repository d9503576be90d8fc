package io.sourcemesh.control.translate;

import com.google.protobuf.Duration;
import java.math.BigDecimal;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Istio's duration strings ("10s", "0.5s", "250ms", "1m", "1h") → protobuf Durations. */
final class IstioDurations {
    private static final Pattern FORM = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(h|m|s|ms|us|ns)");

    private IstioDurations() {}

    static Optional<Duration> parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        BigDecimal n = new BigDecimal(m.group(1));
        BigDecimal nanos = n.multiply(switch (m.group(2)) {
            case "h" -> BigDecimal.valueOf(3_600_000_000_000L);
            case "m" -> BigDecimal.valueOf(60_000_000_000L);
            case "s" -> BigDecimal.valueOf(1_000_000_000L);
            case "ms" -> BigDecimal.valueOf(1_000_000L);
            case "us" -> BigDecimal.valueOf(1_000L);
            default -> BigDecimal.ONE;
        });
        long total = nanos.longValue();
        return Optional.of(Duration.newBuilder().setSeconds(total / 1_000_000_000L)
                .setNanos((int) (total % 1_000_000_000L)).build());
    }
}
