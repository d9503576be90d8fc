package io.sourcemesh.api.resource;

import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A duration as the control plane reads one (its IstioDurations: a decimal number and a unit), and Istio's
 * agent.ValidateDuration (pkg/config/validation/agent) on it, for the rules that check a duration field.
 */
final class IstioDuration {
    private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(h|m|s|ms|us|ns)");
    private static final BigDecimal MILLISECOND = BigDecimal.valueOf(1_000_000L);

    private IstioDuration() {
    }

    /** {@code text} in nanoseconds, or null when it is not a duration. */
    static BigDecimal nanos(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            return null;
        }
        return new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(switch (m.group(2)) {
            case "h" -> 3_600_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "s" -> 1_000_000_000L;
            case "ms" -> 1_000_000L;
            case "us" -> 1_000L;
            default -> 1L;
        }));
    }

    /** ValidateDuration's complaint about {@code nanos} (at least 1ms, whole milliseconds), or null when it is fine. */
    static String validationProblem(BigDecimal nanos) {
        if (nanos.compareTo(MILLISECOND) < 0) {
            return "duration must be greater than 1ms";
        }
        if (nanos.remainder(MILLISECOND).signum() != 0) {
            return "only durations to ms precision are supported";
        }
        return null;
    }
}
